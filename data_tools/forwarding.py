"""Relays every TCP connection a listening socket accepts to another address.

A Reverb server listens on every interface of its network namespace. A
demonstration server that should be reachable on one address only (loopback
by default) runs Reverb inside a namespace of its own and relays to it from a
socket bound, before the move, to that one address in the host's namespace.
"""
import socket
import threading
from typing import List, Tuple

_CHUNK_BYTES = 1 << 18


def _pump(source: socket.socket, sink: socket.socket) -> None:
  """Copies bytes until `source` closes, then half-closes `sink`."""
  buffer = memoryview(bytearray(_CHUNK_BYTES))
  try:
    while True:
      size = source.recv_into(buffer)
      if not size:
        break
      sink.sendall(buffer[:size])
  except OSError:
    pass  # the other side went away; closing below ends its pump too
  finally:
    for end, how in ((sink, socket.SHUT_WR), (source, socket.SHUT_RD)):
      try:
        end.shutdown(how)
      except OSError:
        pass


class Forwarder:
  """Accepts on `listener` and relays each connection to `target`.

  The threads are daemons; `close` stops accepting and closes every relayed
  connection.
  """

  def __init__(self, listener: socket.socket, target: Tuple[str, int]):
    self._listener = listener
    self._target = target
    self._sockets: List[socket.socket] = []
    self._lock = threading.Lock()
    self._closed = False
    self._thread = threading.Thread(target=self._accept, daemon=True,
                                    name='forwarder-accept')

  @property
  def address(self) -> Tuple[str, int]:
    return self._listener.getsockname()[:2]

  def start(self) -> 'Forwarder':
    self._thread.start()
    return self

  def _accept(self) -> None:
    while True:
      try:
        client, _ = self._listener.accept()
      except OSError:
        return  # the listener was closed
      try:
        server = socket.create_connection(self._target)
      except OSError:
        client.close()
        continue
      for end in (client, server):
        end.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
      with self._lock:
        if self._closed:
          client.close()
          server.close()
          return
        self._sockets += [client, server]
      threading.Thread(target=self._relay, args=(client, server), daemon=True,
                       name='forwarder-relay').start()

  def _relay(self, client: socket.socket, server: socket.socket) -> None:
    """Both directions of one connection; closes it when both have ended."""
    replies = threading.Thread(target=_pump, args=(server, client), daemon=True,
                               name='forwarder-replies')
    replies.start()
    _pump(client, server)
    replies.join()
    with self._lock:
      self._sockets = [end for end in self._sockets
                       if end not in (client, server)]
    client.close()
    server.close()

  def close(self) -> None:
    with self._lock:
      self._closed = True
      sockets, self._sockets = self._sockets, []
    try:
      self._listener.shutdown(socket.SHUT_RDWR)
    except OSError:
      pass
    self._listener.close()
    for end in sockets:
      end.close()
    self._thread.join(timeout=5)
