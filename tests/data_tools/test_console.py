"""Progress lines: redrawn on a terminal, rate-limited lines in a log."""
import io
import os

from data_tools import console


class _Terminal(io.StringIO):

  def isatty(self) -> bool:
    return True


def test_log_gets_rate_limited_lines_and_a_final_line_with_eta():
  log = io.StringIO()
  progress = console.Progress('collect', 4, 'episodes', stream=log,
                              log_seconds=3600)
  for done in range(1, 5):
    progress.update(done)
  progress.finish()
  lines = log.getvalue().splitlines()
  assert len(lines) == 2  # the first update; the interval held back the rest
  assert lines[0].startswith('collect [#####...............] 1/4 episodes (')
  assert lines[1].startswith('collect [####################] 4/4 episodes (')
  assert lines[1].endswith('ETA 0:00)')


def test_log_gets_no_line_while_the_count_stands_still_nor_twice_at_the_end():
  log = io.StringIO()
  progress = console.Progress('evaluate', 100, 'episodes', stream=log,
                              log_seconds=0.0)
  for done in (0, 0, 0, 40, 40, 100):
    progress.update(done)
  progress.finish()  # its count is already shown
  lines = log.getvalue().splitlines()
  assert [line.split()[2] for line in lines] == ['0/100', '40/100', '100/100']


def test_terminal_line_is_redrawn_in_place_then_ended():
  terminal = _Terminal()
  progress = console.Progress('evaluate', 10, 'episodes', stream=terminal,
                              terminal_seconds=0.0)
  progress.update(5)
  progress.finish()
  text = terminal.getvalue()
  assert text.count('\r') == 2 and text.endswith(')\n')
  assert '\revaluate [##########..........] 5/10 episodes (' in text


def test_nothing_done_yet_has_an_unknown_eta():
  assert console.Progress('x', 3, 'steps', stream=io.StringIO()).line(
      ).endswith('(0.0/s, ETA ?)')


def test_native_output_is_silenced_inside_and_restored_after(capfd):
  with console.silenced_native_output():
    os.write(1, b'native stdout\n')
    os.write(2, b'native stderr\n')
  os.write(1, b'after\n')
  captured = capfd.readouterr()
  assert captured.out == 'after\n'
  assert captured.err == ''
