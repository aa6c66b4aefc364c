"""Keeps a training process off the network: its own namespace, loopback only.

The embedded Reverb server listens on every interface without authentication
and has no option to bind loopback only. A process moved into a new Linux
user and network namespace sees only its own loopback interface, so its
server is unreachable from other hosts while training runs as before (it
downloads nothing). Only the standard library is used: the move must happen
before TensorFlow starts threads, because a multithreaded process cannot
enter a new user namespace.
"""
import ctypes
import errno
import fcntl
import os
import socket
import struct
import threading

_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000
_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1
_IFREQ = '16sH14s'  # struct ifreq: name, flags, padding


def isolate_network() -> None:
  """Moves this process into a new network namespace with loopback up.

  The user keeps their own uid and gid inside (mapped one to one).

  Raises:
    OSError: if the kernel refuses (unprivileged user namespaces disabled,
      e.g. by a sysctl or an AppArmor policy) or the process has threads.
  """
  if threading.active_count() > 1:
    raise OSError(errno.EINVAL, 'the process already runs threads')
  uid, gid = os.geteuid(), os.getegid()
  libc = ctypes.CDLL(None, use_errno=True)
  if libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNET) != 0:
    code = ctypes.get_errno()
    raise OSError(code, f'unshare: {os.strerror(code)}')
  for name, content in (('setgroups', 'deny'), ('uid_map', f'{uid} {uid} 1'),
                        ('gid_map', f'{gid} {gid} 1')):
    with open(f'/proc/self/{name}', 'w') as f:
      f.write(content)
  with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    request = struct.pack(_IFREQ, b'lo', 0, b'')
    flags = struct.unpack(_IFREQ, fcntl.ioctl(sock, _SIOCGIFFLAGS, request))[1]
    fcntl.ioctl(sock, _SIOCSIFFLAGS,
                struct.pack(_IFREQ, b'lo', flags | _IFF_UP, b''))


HOST_NETWORK_FLAG = '--network=host'


def isolate_unless_host_network(argv: list[str]) -> str | None:
  """Isolates the process unless `argv` holds `--network=host`.

  Returns:
    None, or why the process stays on the host's network.
  """
  if HOST_NETWORK_FLAG in argv:
    return None
  try:
    isolate_network()
  except OSError as error:
    return (f'could not isolate the process from the network ({error}); the '
            'embedded Reverb server listens on every interface, without '
            'authentication (README, "Trust model")')
  return None


def only_loopback() -> bool:
  """Whether the process sees no network interface besides loopback."""
  return [name for _, name in socket.if_nameindex()] == ['lo']
