"""What the command lines share: a quiet start, and progress lines.

TensorFlow's C++ start-up lines (CUDA plugins on a machine without a GPU),
gym's notice and the SavedModel encoder's note on TF-Agents' distribution
specs say nothing about the run; they are hidden unless the user sets
TF_CPP_MIN_LOG_LEVEL. Only the standard library is imported here, so a
command can use this before TensorFlow loads.
"""
import contextlib
import io
import logging
import os
import sys
import time
import warnings


def quiet_start() -> None:
  """Hides TensorFlow's and gym's start-up banners for this process."""
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
  # An exported policy loads without TF-Agents' spec types registered (the
  # tests load one in a bare interpreter), so this note does not apply.
  warnings.filterwarnings(
      'ignore', message='Encoding a StructuredValue with type tfp',
      category=UserWarning)
  with contextlib.redirect_stderr(io.StringIO()):
    try:
      import gym  # pylint: disable=g-import-not-at-top,unused-import
    except ImportError:
      pass


@contextlib.contextmanager
def silenced_native_output():
  """Sends what native code writes to stdout and stderr to /dev/null.

  For libraries that print from C on import or connection (pybullet); a
  Python exception raised inside still propagates.
  """
  sys.stdout.flush()
  sys.stderr.flush()
  saved = [os.dup(1), os.dup(2)]
  null = os.open(os.devnull, os.O_WRONLY)
  try:
    os.dup2(null, 1)
    os.dup2(null, 2)
    yield
  finally:
    os.dup2(saved[0], 1)
    os.dup2(saved[1], 2)
    for descriptor in saved + [null]:
      os.close(descriptor)


def _not_a_tensorflow_warning(record: logging.LogRecord) -> bool:
  return (record.levelno >= logging.ERROR or
          f'{os.sep}tensorflow{os.sep}' not in record.pathname)


def quiet_library_warnings() -> None:
  """Hides TensorFlow's warnings (argument renaming when a policy is exported,
  retracing notes), which say nothing about the run; its errors still show.

  TensorFlow logs both through its own logger and through absl's.
  """
  logging.getLogger('tensorflow').setLevel(logging.ERROR)
  logging.getLogger('absl').addFilter(_not_a_tensorflow_warning)


class Progress:
  """A progress line with rate and ETA: `collect [#####.....] 50/100 ...`.

  The first update shows at once. Then, on a terminal, the line is redrawn
  in place at most every `terminal_seconds`; otherwise (a log file, CI) a
  new line is printed at most every `log_seconds`, and only when the count
  moved, so logs stay short. `finish` prints the last line.
  """

  def __init__(self, label: str, total: int, unit: str, stream=None,
               terminal_seconds: float = 0.2, log_seconds: float = 10.0):
    self._label, self._total, self._unit = label, max(total, 1), unit
    self._stream = stream or sys.stderr
    self._terminal = self._stream.isatty()
    self._interval = terminal_seconds if self._terminal else log_seconds
    self._start = time.monotonic()
    self._last = -float('inf')  # the first update shows at once
    self._shown = None  # the count the last line showed
    self.done = 0

  @property
  def elapsed(self) -> float:
    return time.monotonic() - self._start

  def line(self) -> str:
    """`label [bar] done/total unit (rate/s, ETA m:ss)`."""
    rate = self.done / max(self.elapsed, 1e-9)
    left = (self._total - self.done) / rate if rate > 0 else float('inf')
    eta = ('?' if left == float('inf')
           else f'{int(left) // 60}:{int(left) % 60:02d}')
    filled = int(20 * min(self.done, self._total) / self._total)
    return (f'{self._label} [{"#" * filled}{"." * (20 - filled)}] '
            f'{self.done}/{self._total} {self._unit} '
            f'({rate:.1f}/s, ETA {eta})')

  def update(self, done: int) -> None:
    self.done = done
    now = time.monotonic()
    if now - self._last >= self._interval and (self._terminal or
                                                done != self._shown):
      self._last, self._shown = now, done
      self._write(self.line(), final=False)

  def finish(self) -> None:
    if self._terminal or self.done != self._shown:
      self._write(self.line(), final=True)

  def _write(self, text: str, final: bool) -> None:
    if self._terminal:
      self._stream.write(f'\r{text}' + ('\n' if final else ''))
    else:
      self._stream.write(text + '\n')
    self._stream.flush()
