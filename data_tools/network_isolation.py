"""Keeps a process off the network: its own namespace, loopback only.

A Reverb server listens on every interface without authentication and has
no option to bind loopback only. A process moved into a new Linux user and
network namespace sees only its own loopback interface, so a server there is
unreachable from other hosts (the demonstration server relays to it from
one address of the host, `data_tools.replay_server`). Only the standard
library is used: the move must happen before TensorFlow starts threads,
because a multithreaded process cannot enter a new user namespace.
"""
import ctypes
import errno
import fcntl
import os
import socket
import struct
import sys
import threading
from typing import Optional

_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000
_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1
_IFREQ = '16sH14s'  # struct ifreq: name, flags, padding


def _unshare() -> None:
  """Moves this process into new user and network namespaces."""
  try:
    unshare = ctypes.CDLL(None, use_errno=True).unshare
  except AttributeError:
    raise OSError(errno.ENOSYS, 'this C library has no unshare') from None
  if unshare(_CLONE_NEWUSER | _CLONE_NEWNET) != 0:
    code = ctypes.get_errno()
    raise OSError(code, f'unshare: {os.strerror(code)}')


def _map_ids(uid: int, gid: int) -> None:
  """Maps the user's own uid and gid into the new user namespace."""
  for name, content in (('setgroups', 'deny'), ('uid_map', f'{uid} {uid} 1'),
                        ('gid_map', f'{gid} {gid} 1')):
    try:
      with open(f'/proc/self/{name}', 'w') as f:
        f.write(content)
    except OSError as error:
      raise OSError(error.errno,
                    f'writing /proc/self/{name}: {error.strerror}') from None


def _bring_up_loopback() -> None:
  with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    request = struct.pack(_IFREQ, b'lo', 0, b'')
    flags = struct.unpack(_IFREQ, fcntl.ioctl(sock, _SIOCGIFFLAGS, request))[1]
    fcntl.ioctl(sock, _SIOCSIFFLAGS,
                struct.pack(_IFREQ, b'lo', flags | _IFF_UP, b''))


def _check_loopback() -> None:
  """Raises OSError unless a TCP connection over loopback works."""
  with socket.create_server(('127.0.0.1', 0)) as server:
    with socket.create_connection(server.getsockname(), timeout=5):
      pass


def isolate_network() -> None:
  """Moves this process into a new network namespace with loopback up.

  The user keeps their own uid and gid inside (mapped one to one). A
  failure after the move can leave the process without any network, so
  callers try `probe` first.

  Raises:
    OSError: if the platform is not Linux, the kernel refuses
      (unprivileged user namespaces disabled by a sysctl, an AppArmor policy
      or a seccomp profile) or the process has threads.
  """
  if not sys.platform.startswith('linux'):
    raise OSError(errno.ENOSYS,
                  f'network namespaces are Linux only, not {sys.platform}')
  if threading.active_count() > 1:
    raise OSError(errno.EINVAL, 'the process already runs threads')
  uid, gid = os.geteuid(), os.getegid()
  _unshare()
  _map_ids(uid, gid)
  _bring_up_loopback()
  _check_loopback()


def probe() -> Optional[str]:
  """Why `isolate_network` would fail here; None if it works.

  It is tried in a forked child, which has a single thread and leaves this
  process where it is.
  """
  if not sys.platform.startswith('linux'):
    return f'network namespaces are Linux only, not {sys.platform}'
  read_end, write_end = os.pipe()
  pid = os.fork()
  if pid == 0:  # the child: try, report, and leave without cleanup
    os.close(read_end)
    try:
      isolate_network()
      report = b''
    except BaseException as error:  # pylint: disable=broad-except
      report = (str(error) or type(error).__name__).encode()
    os.write(write_end, report)
    os._exit(0)
  os.close(write_end)
  with os.fdopen(read_end, 'rb') as f:
    report = f.read()
  os.waitpid(pid, 0)
  return report.decode() or None


def only_loopback() -> bool:
  """Whether the process sees no network interface besides loopback."""
  return [name for _, name in socket.if_nameindex()] == ['lo']
