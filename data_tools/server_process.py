"""A trainer's own demonstration server, started as a child process.

A Reverb server in the trainer's process would listen on every interface of
the host, without authentication. Started as a child
(`python -m data_tools.replay_server --host=127.0.0.1`), it moves into a
network namespace of its own and is reached through a relay on loopback, so
nothing the trainer starts is reachable from other hosts, and the trainer's
own process keeps its namespaces. Where the kernel refuses namespaces the
child says so, and what it exposes, on the trainer's standard error.
"""
import os
import re
import subprocess
import sys
import tempfile
import threading
from typing import Callable

from tf_agents.specs import tensor_spec
from tf_agents.trajectories import trajectory

from data_tools import replay

_SERVING = re.compile(r'^Serving .* at (\S+:\d+)$')
_STOP_SECONDS = 30


class ServerProcess(replay.RemoteDemonstrations):
  """Serves `dataset` from a child process; reads it as a remote server.

  Use as a context manager (or call `close`) to stop the child.

  Raises:
    RuntimeError: with the child's exit status, if it ends before serving
      (its errors are on standard error above).
  """

  def __init__(self, dataset: str, task: str,
               data_spec: trajectory.Trajectory, sequence_length: int):
    with tempfile.TemporaryDirectory(prefix='ibc_server_') as spec_dir:
      spec_path = os.path.join(spec_dir, 'data_spec.pbtxt')
      tensor_spec.to_pbtxt_file(spec_path, tensor_spec.from_spec(data_spec))
      self.process = subprocess.Popen(
          [sys.executable, '-m', 'data_tools.replay_server',
           f'--dataset={dataset}', f'--task={task}',
           f'--history_length={sequence_length}', '--host=127.0.0.1',
           '--port=0', f'--data_spec_file={spec_path}',
           f'--parent_pid={os.getpid()}'],
          stdout=subprocess.PIPE, text=True)
      address = self._wait_until_serving()
    threading.Thread(target=self._drain, daemon=True,
                     name='demonstration-server-output').start()
    try:
      super().__init__(address, data_spec, sequence_length)
    except BaseException:
      self._stop_child()
      raise

  def _wait_until_serving(self) -> str:
    """The address the child serves at, from its first line."""
    for line in self.process.stdout:
      match = _SERVING.match(line.strip())
      if match:
        print(f'Demonstrations: {line.strip()} (a child process, '
              f'pid {self.process.pid})', flush=True)
        return match.group(1)
      print(line, end='', flush=True)
    status = self.process.wait()
    raise RuntimeError(
        f'The demonstration server process ended with exit status {status} '
        'before serving; its error is printed above.')

  def _drain(self) -> None:
    for line in self.process.stdout:
      print(f'Demonstration server: {line.strip()}', flush=True)

  def watch(self, on_lost: Callable[[str], None],
            poll_seconds: float = 2.0) -> None:
    """As `RemoteDemonstrations.watch`, and at once if the child exits."""
    super().watch(on_lost, poll_seconds)

    def wait_for_exit() -> None:
      status = self.process.wait()
      if not self._stop_watching.is_set():
        on_lost(f'the demonstration server process (pid {self.process.pid}) '
                f'exited with status {status}')

    threading.Thread(target=wait_for_exit, daemon=True,
                     name='demonstration-server-exit').start()

  def _stop_child(self) -> None:
    if self.process.poll() is None:
      self.process.terminate()
      try:
        self.process.wait(timeout=_STOP_SECONDS)
      except subprocess.TimeoutExpired:
        self.process.kill()
        self.process.wait()

  def close(self) -> None:
    """Stops watching, then stops the child."""
    super().close()
    self._stop_child()
