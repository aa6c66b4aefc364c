r"""Wall time until a config's evaluated success first reaches a threshold.

    python -m bench.time_to_success --gin_file=gin_configs/particle/ibc_dfo.gin \
        [--dataset=DIR | --num_episodes=1000] [--precisions=float32,bfloat16] \
        [--threshold=0.9] [--eval_episodes=50] [--eval_interval=500] \
        [--max_steps=N] [--gin_bindings=...] [--work_dir=/tmp/ibc_tts] \
        [--output=docs/benchmarks.md] \
        [--summary=docs/results/time_to_success_TASK_CONFIG.json]

For each compute precision (the network's `compute_dtype`), one
`python -m ibc_agents.train` process trains the config with an evaluation
every --eval_interval steps. The evaluations' TensorBoard events are watched;
at the first success rate >= --threshold the run is stopped and its wall time
recorded: from launch to the end of that evaluation, so start-up, data
loading and the evaluations themselves count. A run that never gets there
trains to its last step (or --max_steps). Without --dataset, oracle
demonstrations of the config's task are collected (and reused) as
`bench.compare` does. The run's record goes to --summary and its section
of --output is regenerated from it, as `bench.results_tables` renders it.
"""
import dataclasses
import glob
import os
import shlex
import subprocess
import time
from typing import Any, Dict, List, Sequence, Tuple

from absl import flags
import gin
import numpy as np
import tensorflow as tf

from bench import cli
from bench import compare
from bench import report
from ibc_agents.networks import layers

SUCCESS_TAG = 'eval/success_rate'
MIN_EVAL_EPISODES = 50  # fewer make the success rate too coarse to time
RECORD_PREFIX = 'time_to_success'  # docs/results/time_to_success_*.json
_POLL_SECONDS = 5.0


@dataclasses.dataclass
class Evaluation:
  """One evaluation of a run: train step, seconds since launch, success."""
  step: int
  wall_seconds: float
  success_rate: float


def read_evaluations(eval_dir: str, start_time: float) -> List[Evaluation]:
  """The success rates written so far to `eval_dir`'s events, by step.

  A file still being written may end in a partial record; what precedes it
  is returned.
  """
  evaluations = {}
  for path in sorted(glob.glob(os.path.join(eval_dir, 'events.out.*'))):
    try:
      for record in tf.data.TFRecordDataset(path):
        event = tf.compat.v1.Event.FromString(record.numpy())
        for value in event.summary.value:
          if value.tag == SUCCESS_TAG:
            evaluations[event.step] = Evaluation(
                int(event.step), event.wall_time - start_time,
                float(tf.make_ndarray(value.tensor)))
    except tf.errors.DataLossError:
      pass
  return [evaluations[step] for step in sorted(evaluations)]


def reaches(success_rate: float, threshold: float) -> bool:
  """Whether a success rate, summarised as float32, is >= the threshold.

  The comparison is in float32: 90 successes of 100 are summarised as
  0.89999998, which must count as reaching 0.9.
  """
  return bool(np.float32(success_rate) >= np.float32(threshold))


def task_and_network(gin_file: str,
                     gin_bindings: Sequence[str]) -> Tuple[str, str]:
  """(task, network configurable name) that `gin_file` trains."""
  gin.clear_config()
  try:
    gin.parse_config_files_and_bindings([gin_file], gin_bindings)
    return (gin.query_parameter('train_eval.task'),
            gin.query_parameter('train_eval.network_class').configurable.name)
  finally:
    gin.clear_config()


def timed_run(gin_file: str, dataset: str, root_dir: str,
              gin_bindings: Sequence[str], threshold: float
              ) -> Dict[str, Any]:
  """Trains in a fresh process until success >= threshold or the last step."""
  command, log_path = compare.train_command(gin_file, dataset, root_dir,
                                            gin_bindings)
  eval_dir = os.path.join(root_dir, 'eval')
  start_time = time.time()
  with open(log_path, 'w') as log:
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    reached = None
    while reached is None and process.poll() is None:
      time.sleep(_POLL_SECONDS)
      evaluations = read_evaluations(eval_dir, start_time)
      reached = next((evaluation for evaluation in evaluations
                      if reaches(evaluation.success_rate, threshold)), None)
    if reached is not None:
      process.terminate()
    returncode = process.wait()
  evaluations = read_evaluations(eval_dir, start_time)
  reached = next((evaluation for evaluation in evaluations
                  if reaches(evaluation.success_rate, threshold)), None)
  if reached is None and returncode != 0:
    with open(log_path) as log:
      tail = log.read()[-3000:]
    raise RuntimeError(f'Training failed: {shlex.join(command)}\n'
                       f'Last output ({log_path}):\n{tail}')
  return dict(
      reached=reached is not None,
      wall_seconds=(reached.wall_seconds if reached else
                    time.time() - start_time),
      step=reached.step if reached else None,
      best_success_rate=max((e.success_rate for e in evaluations),
                            default=None),
      evaluations=[dataclasses.asdict(e) for e in evaluations])


def _define_flags(values: flags.FlagValues) -> None:
  flags.DEFINE_string('gin_file', None, 'The config to train.',
                      flag_values=values, required=True)
  flags.DEFINE_string('dataset', None,
                      'Demonstrations (default: collect oracle ones).',
                      flag_values=values)
  flags.DEFINE_integer('num_episodes', 1000, 'Oracle demonstrations to '
                       'collect without --dataset.', lower_bound=1,
                       flag_values=values)
  flags.DEFINE_list('precisions', list(layers.COMPUTE_DTYPES),
                    'Network compute dtypes.', flag_values=values)
  flags.DEFINE_float('threshold', 0.9, 'Success rate to reach.',
                     flag_values=values)
  flags.DEFINE_integer('eval_episodes', MIN_EVAL_EPISODES,
                       'Episodes per evaluation.', lower_bound=1,
                       flag_values=values)
  flags.DEFINE_integer('eval_interval', 500,
                       'Train steps between evaluations.', lower_bound=1,
                       flag_values=values)
  flags.DEFINE_integer('max_steps', None,
                       "Train steps at most (default: the config's).",
                       flag_values=values)
  cli.define_run_flags(values, '/tmp/ibc_time_to_success',
                       'Markdown file whose section is written.')
  flags.DEFINE_string('summary', '',
                      'JSON record of the run (default: docs/results/'
                      f'{RECORD_PREFIX}_TASK_CONFIG.json).', flag_values=values)


def parse_args(argv: Sequence[str]) -> cli.Args:
  """Parses and checks the command line."""
  args = cli.parse(_define_flags, argv, 'bench.time_to_success')
  args.gin_file = cli.gin_files([args.gin_file])[0][0]
  args.precisions = cli.known_names('--precisions', args.precisions,
                                    layers.COMPUTE_DTYPES)
  return args


def main(argv: Sequence[str]) -> None:
  args = parse_args(argv)
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
  name = os.path.splitext(os.path.basename(args.gin_file))[0]
  task, network = task_and_network(args.gin_file, args.gin_bindings)
  work_dir = os.path.abspath(args.work_dir)
  dataset = args.dataset or compare.prepare_dataset(
      task, args.num_episodes, os.path.join(work_dir, 'data', task),
      [args.gin_file], args.gin_bindings)
  bindings = list(args.gin_bindings) + [
      f'train_eval.eval_episodes = {args.eval_episodes}',
      f'train_eval.eval_interval = {args.eval_interval}']
  if args.max_steps:
    bindings.append(f'train_eval.num_iterations = {args.max_steps}')
  command = shlex.join(['python', '-m', 'bench.time_to_success', *argv])
  summary = args.summary or os.path.join(
      'docs', 'results', f'{RECORD_PREFIX}_{task.lower()}_{name}.json')
  heading = f'## Time to success: {task} {name}'
  results = []
  for precision in args.precisions:
    result = timed_run(
        args.gin_file, dataset,
        os.path.join(work_dir, 'runs', task, name, precision),
        bindings + [f'{network}.compute_dtype = {precision!r}'],
        args.threshold)
    result['precision'] = precision
    print(f'time_to_success: {name} {precision}: '
          f'{"reached" if result["reached"] else "not reached"} after '
          f'{result["wall_seconds"]:.0f} s', flush=True)
    results.append(result)
  record = dict(report.provenance(command), section=heading, task=task,
                config=name, dataset=dataset, threshold=args.threshold,
                eval_episodes=args.eval_episodes,
                min_eval_episodes=MIN_EVAL_EPISODES, results=results)
  print(report.write_record_section(args.output, heading, summary, record))


if __name__ == '__main__':
  cli.run(main)
