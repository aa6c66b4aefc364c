r"""Success against wall time of finished or running trainings, as a PNG.

    python -m bench.learning_curve --run=IBC=runs/pix/ibc --run=MSE=runs/pix/mse \
        --output=docs/pixels_curve.png [--title=...]

Reads each run's evaluation summaries (`eval/success_rate`) and times them
from the run's first training summary, so the x axis is the wall time of
the training with its evaluations, as a user waits for it. A run resumed
in a later process includes the time between the processes.
"""
import glob
import os
from typing import List, Sequence, Tuple

from absl import flags
import tensorflow as tf

from bench import cli
from bench import report
from bench import time_to_success


def first_summary_time(root_dir: str) -> float:
  """Wall time of the run's first training summary (its start, in effect)."""
  times = []
  for path in glob.glob(os.path.join(root_dir, 'train', 'events.out.*')):
    for record in tf.data.TFRecordDataset(path).take(1):
      times.append(tf.compat.v1.Event.FromString(record.numpy()).wall_time)
  if not times:
    raise ValueError(f'{root_dir} has no training summaries.')
  return min(times)


def curve(root_dir: str) -> List[Tuple[float, float]]:
  """(minutes since the start, success rate) of each evaluation of a run."""
  start = first_summary_time(root_dir)
  return [(evaluation.wall_seconds / 60.0, evaluation.success_rate)
          for evaluation in time_to_success.read_evaluations(
              os.path.join(root_dir, 'eval'), start)]


def _define_flags(values: flags.FlagValues) -> None:
  flags.DEFINE_multi_string('run', None, 'NAME=ROOT_DIR (repeatable).',
                            flag_values=values, required=True)
  flags.DEFINE_string('output', None, 'PNG path.', flag_values=values,
                      required=True)
  flags.DEFINE_string('title', 'Success against wall time',
                      'Chart title.', flag_values=values)


def main(argv: Sequence[str]) -> None:
  args = cli.parse(_define_flags, argv, 'bench.learning_curve')
  series = {}
  for text in args.run:
    name, _, root_dir = text.partition('=')
    cli.require(bool(name and root_dir and os.path.isdir(root_dir)),
                f'--run={text!r}: expected NAME=ROOT_DIR of a run')
    series[name] = curve(root_dir)
    print(f'learning_curve: {name}: ' + ', '.join(
        f'{minutes:.1f} min {success:.2f}'
        for minutes, success in series[name]), flush=True)
  report.draw_curve_chart(series, args.output, args.title,
                          'minutes since the start of training')
  print(f'learning_curve: wrote {args.output}', flush=True)


if __name__ == '__main__':
  cli.run(main)
