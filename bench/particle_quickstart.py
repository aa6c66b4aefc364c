"""Times the quickstart (collection + IBC-DFO training on 2D particle) end to end.

    python -m bench.particle_quickstart [--repeats=3] [--work_dir=/tmp/ibc_bench]

Runs the same two commands as `make quickstart` in a fresh directory per
repeat and prints a Markdown table row per repeat plus the median, for
docs/benchmarks.md.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

from absl import app
from absl import flags

from bench import report

flags.DEFINE_integer('repeats', 3, 'Fresh quickstart runs to time.')
flags.DEFINE_string('work_dir', '/tmp/ibc_bench', 'Scratch directory.')
flags.DEFINE_integer('num_episodes', 2000, 'Demonstrations to collect.')
FLAGS = flags.FLAGS

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _timed(command) -> float:
  start = time.perf_counter()
  subprocess.run(command, check=True, cwd=_REPO, stdout=subprocess.DEVNULL)
  return time.perf_counter() - start


def _run_once(run_dir: str) -> dict:
  data_dir, root_dir = os.path.join(run_dir, 'data'), os.path.join(run_dir, 'run')
  collect_seconds = _timed([
      sys.executable, '-m', 'data_tools.collect', '--task=PARTICLE',
      f'--num_episodes={FLAGS.num_episodes}', '--num_workers=2',
      f'--output_dir={data_dir}'])
  train_seconds = _timed([
      sys.executable, '-m', 'ibc_agents.train',
      '--gin_file=gin_configs/particle/ibc_dfo.gin', f'--dataset={data_dir}',
      f'--root_dir={root_dir}'])
  with open(os.path.join(root_dir, 'results.json')) as f:
    results = json.load(f)
  return dict(results, collect_seconds=collect_seconds,
              train_seconds=train_seconds,
              total_seconds=collect_seconds + train_seconds)


def main(argv):
  del argv
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
  print(f'machine: {os.cpu_count()} cores, {report.cpu_model()}')
  print('| run | success rate | eval episodes | train steps | steps/s | '
        'collect (s) | train + eval (s) | total (s) |')
  print('| --- | --- | --- | --- | --- | --- | --- | --- |')
  runs = []
  for repeat in range(FLAGS.repeats):
    run_dir = os.path.join(FLAGS.work_dir, f'run{repeat}')
    shutil.rmtree(run_dir, ignore_errors=True)
    run = _run_once(run_dir)
    runs.append(run)
    print(f'| {repeat} | {run["success_rate"]:.2f} | {run["eval_episodes"]} | '
          f'{run["train_steps"]} | {run["steps_per_sec"]:.1f} | '
          f'{run["collect_seconds"]:.0f} | {run["train_seconds"]:.0f} | '
          f'{run["total_seconds"]:.0f} |', flush=True)
  median = lambda key: statistics.median(run[key] for run in runs)
  print(f'| median | {median("success_rate"):.2f} | | | '
        f'{median("steps_per_sec"):.1f} | {median("collect_seconds"):.0f} | '
        f'{median("train_seconds"):.0f} | {median("total_seconds"):.0f} |')


if __name__ == '__main__':
  app.run(main)
