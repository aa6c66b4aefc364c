r"""Wall time until a config's evaluated success first reaches a threshold.

    python -m bench.time_to_success --gin_file=gin_configs/particle/ibc_dfo.gin \
        [--dataset=DIR | --num_episodes=1000] [--precisions=float32,bfloat16] \
        [--threshold=0.9] [--eval_episodes=50] [--eval_interval=500] \
        [--max_steps=N] [--gin_bindings=...] [--work_dir=/tmp/ibc_tts] \
        [--output=docs/benchmarks.md] [--json_dir=docs/time_to_success]

For each compute precision (the network's `compute_dtype`), one
`python -m ibc_agents.train` process trains the config with an evaluation
every --eval_interval steps. The evaluations' TensorBoard events are watched;
at the first success rate >= --threshold the run is stopped and its wall time
recorded: from launch to the end of that evaluation, so start-up, data
loading and the evaluations themselves count. A run that never gets there
trains to its last step (or --max_steps). Without --dataset, oracle
demonstrations of the config's task are collected (and reused) as
`bench.compare` does.
"""
import argparse
import dataclasses
import datetime
import glob
import json
import os
import shlex
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

import gin
import tensorflow as tf

from bench import compare
from bench import report
from ibc_agents.networks import layers

SUCCESS_TAG = 'eval/success_rate'
MIN_EVAL_EPISODES = 50  # fewer make the success rate too coarse to time
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
                      if evaluation.success_rate >= threshold), None)
    if reached is not None:
      process.terminate()
    returncode = process.wait()
  evaluations = read_evaluations(eval_dir, start_time)
  reached = next((evaluation for evaluation in evaluations
                  if evaluation.success_rate >= threshold), None)
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


def format_section(heading: str, command: str, threshold: float,
                   eval_episodes: int, dataset: str,
                   results: Sequence[Dict[str, Any]]) -> str:
  """The Markdown section: provenance and one row per precision."""
  rows = [f'| precision | wall time to success >= {threshold:.2f} | train '
          'step | evaluations | best success |',
          '| --- | --- | --- | --- | --- |']
  for result in results:
    reached = (f'{result["wall_seconds"] / 60:.1f} min' if result['reached']
               else f'not reached in {result["wall_seconds"] / 60:.1f} min')
    best = result['best_success_rate']
    rows.append(f'| {result["precision"]} | {reached} '
                f'| {result["step"] or "-"} | {len(result["evaluations"])} '
                f'| {"-" if best is None else f"{best:.2f}"} |')
  coarse = (f' Fewer than {MIN_EVAL_EPISODES} episodes per evaluation: a '
            'smoke run, not a measurement.'
            if eval_episodes < MIN_EVAL_EPISODES else '')
  return '\n\n'.join([
      heading, f'`{command}`',
      f'Machine: {report.machine_description()}; TensorFlow '
      f'{tf.__version__}. Date: {datetime.date.today().isoformat()}. Load '
      f'average (1 min) at the end: {os.getloadavg()[0]:.1f}. {dataset}',
      '\n'.join(rows),
      f'Wall time from launching `python -m ibc_agents.train` to the end of '
      f'the first evaluation ({eval_episodes} episodes) at or above the '
      'threshold: start-up, data loading and every evaluation included.'
      f'{coarse}']) + '\n'


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
  """Parses and checks the command line."""
  parser = argparse.ArgumentParser(
      prog='python -m bench.time_to_success',
      description='Wall time until a gin config first reaches a success rate.')
  parser.add_argument('--gin_file', required=True, help='The config to train.')
  parser.add_argument('--dataset', default=None,
                      help='Demonstrations (default: collect oracle ones).')
  parser.add_argument('--num_episodes', type=int, default=1000,
                      help='Oracle demonstrations to collect without '
                           '--dataset.')
  parser.add_argument('--precisions', default=','.join(layers.COMPUTE_DTYPES),
                      help='Comma-separated network compute dtypes.')
  parser.add_argument('--threshold', type=float, default=0.9,
                      help='Success rate to reach.')
  parser.add_argument('--eval_episodes', type=int, default=MIN_EVAL_EPISODES,
                      help='Episodes per evaluation.')
  parser.add_argument('--eval_interval', type=int, default=500,
                      help='Train steps between evaluations.')
  parser.add_argument('--max_steps', type=int, default=None,
                      help='Train steps at most (default: the config\'s).')
  parser.add_argument('--gin_bindings', action='append', default=[],
                      help='Gin binding for every run (repeatable).')
  parser.add_argument('--work_dir', default='/tmp/ibc_time_to_success',
                      help='Dataset and run directories.')
  parser.add_argument('--output', default='docs/benchmarks.md',
                      help='Markdown file whose section is written.')
  parser.add_argument('--json_dir', default='docs/time_to_success',
                      help='Directory of the JSON results.')
  args = parser.parse_args(argv)
  args.gin_file = os.path.abspath(args.gin_file)
  args.precisions = args.precisions.split(',')
  unknown = [p for p in args.precisions if p not in layers.COMPUTE_DTYPES]
  if unknown:
    parser.error(f'--precisions: unknown {unknown}; known: '
                 f'{", ".join(layers.COMPUTE_DTYPES)}')
  if not os.path.isfile(args.gin_file):
    parser.error(f'gin file not found: {args.gin_file}')
  if args.eval_episodes < 1 or args.eval_interval < 1:
    parser.error('--eval_episodes and --eval_interval must be positive')
  return args


def main(argv: Optional[Sequence[str]] = None) -> None:
  argv = sys.argv[1:] if argv is None else list(argv)
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
  command = shlex.join(['python', '-m', 'bench.time_to_success'] + argv)
  os.makedirs(args.json_dir, exist_ok=True)
  results = []
  for precision in args.precisions:
    result = timed_run(
        args.gin_file, dataset,
        os.path.join(work_dir, 'runs', task, name, precision),
        bindings + [f'{network}.compute_dtype = {precision!r}'],
        args.threshold)
    result.update(config=name, task=task, precision=precision, dataset=dataset,
                  threshold=args.threshold, eval_episodes=args.eval_episodes,
                  command=command, machine=report.machine_description(),
                  date=datetime.date.today().isoformat())
    with open(os.path.join(args.json_dir, f'{name}_{precision}.json'),
              'w') as f:
      json.dump(result, f, indent=1)
    print(f'time_to_success: {name} {precision}: '
          f'{"reached" if result["reached"] else "not reached"} after '
          f'{result["wall_seconds"]:.0f} s', flush=True)
    results.append(result)
  heading = f'## Time to success: {task} {name}'
  section = format_section(heading, command, args.threshold,
                           args.eval_episodes,
                           f'Dataset: {dataset}.', results)
  report.write_section(args.output, heading, section)
  print(section)


if __name__ == '__main__':
  main()
