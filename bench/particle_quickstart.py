"""Runs the quickstart (collection + IBC-DFO training on 2D particle) over seeds.

    python -m bench.particle_quickstart [--seeds=1,2,3,4,5]
        [--work_dir=/tmp/ibc_bench] [--output=docs/results/quickstart.json]

Each seed runs the same two commands as `make quickstart` in a fresh
directory: the collection with `--seed=SEED` and the training with
`train_eval.seed = SEED`, so every run has its own demonstrations and its own
training draws. Prints a Markdown table row per run and the min / mean / max
of the success rate, for docs/benchmarks.md, and writes the command, commit,
date, machine, seeds, per-run figures and the spread to `--output` as JSON.
The collection flags' defaults are the Makefile's quickstart target's.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from typing import Any, Dict, List, Sequence, Tuple

from absl import app
from absl import flags

from bench import report

flags.DEFINE_list('seeds', ['1', '2', '3', '4', '5'],
                  'One run per seed: its collection seed and training seed.')
flags.DEFINE_string('work_dir', '/tmp/ibc_bench', 'Scratch directory.')
flags.DEFINE_string('output', 'docs/results/quickstart.json',
                    'JSON record of the runs (relative to the repository).')
flags.DEFINE_string('gin_file', 'gin_configs/particle/quickstart.gin',
                    'The quickstart\'s training configuration.')
flags.DEFINE_multi_string('gin_bindings', [],
                          'Extra gin bindings for every training.')
flags.DEFINE_integer('num_episodes', 4000, 'Demonstrations to collect.')
flags.DEFINE_integer('num_workers', 2, 'Collection worker processes.')
flags.DEFINE_float('action_noise', 0.0,
                   'DART noise of the collection (`collect --action_noise`).')
FLAGS = flags.FLAGS

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _timed(command: Sequence[str]) -> Tuple[float, str]:
  """Runs `command` in the repository: (wall seconds, its last stdout line)."""
  start = time.perf_counter()
  completed = subprocess.run(command, check=True, cwd=_REPO,
                             stdout=subprocess.PIPE, text=True)
  lines = completed.stdout.strip().splitlines()
  return time.perf_counter() - start, lines[-1] if lines else ''


def _run_once(run_dir: str, seed: int) -> Dict[str, Any]:
  """Collects and trains in `run_dir` with `seed`; the run's figures."""
  data_dir, root_dir = os.path.join(run_dir, 'data'), os.path.join(run_dir, 'run')
  collect_seconds, _ = _timed([
      sys.executable, '-m', 'data_tools.collect', '--task=PARTICLE',
      f'--num_episodes={FLAGS.num_episodes}',
      f'--num_workers={FLAGS.num_workers}', f'--seed={seed}',
      f'--action_noise={FLAGS.action_noise}', f'--output_dir={data_dir}'])
  bindings = [f'train_eval.seed = {seed}', *FLAGS.gin_bindings]
  train_seconds, last_line = _timed([
      sys.executable, '-m', 'ibc_agents.train', f'--gin_file={FLAGS.gin_file}',
      f'--dataset={data_dir}', f'--root_dir={root_dir}',
      *[f'--gin_bindings={binding}' for binding in bindings]])
  with open(os.path.join(root_dir, 'results.json')) as f:
    results = json.load(f)
  return dict(
      seed=seed, success_rate=results['success_rate'],
      avg_return=results['avg_return'],
      eval_episodes=results['eval_episodes'],
      train_steps=results['train_steps'],
      steps_per_sec=results['steps_per_sec'],
      dataset_steps=results['dataset_steps'],
      collect_seconds=collect_seconds, train_seconds=train_seconds,
      best=results.get('best'), last_line=last_line)


def spread(values: Sequence[float]) -> Dict[str, float]:
  """min / mean / max of `values`."""
  return dict(min=min(values), mean=statistics.fmean(values), max=max(values))


def _row(label: str, run: Dict[str, Any]) -> str:
  return (f'| {label} | {run["success_rate"]:.2f} | {run["eval_episodes"]} | '
          f'{run["train_steps"]} | {run["steps_per_sec"]:.1f} | '
          f'{run["collect_seconds"]:.0f} | {run["train_seconds"]:.0f} |')


def provenance(command: str) -> Dict[str, Any]:
  """`report.provenance` with the TensorFlow threads and the collection."""
  header = report.provenance(command)
  header['machine'].update(
      tf_intra_op_threads=os.environ.get('TF_NUM_INTRAOP_THREADS'),
      tf_inter_op_threads=os.environ.get('TF_NUM_INTEROP_THREADS'))
  header.update(gin_file=FLAGS.gin_file, gin_bindings=list(FLAGS.gin_bindings),
                num_episodes=FLAGS.num_episodes,
                num_workers=FLAGS.num_workers,
                action_noise=FLAGS.action_noise)
  return header


def record(header: Dict[str, Any],
           runs: List[Dict[str, Any]]) -> Dict[str, Any]:
  """The JSON record: `provenance`, per-run figures and their spread."""
  return dict(
      header, seeds=[run['seed'] for run in runs], runs=runs,
      spread={key: spread([run[key] for run in runs])
              for key in ('success_rate', 'train_seconds', 'steps_per_sec')})


def main(argv):
  del argv
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
  command = ' '.join(['python -m bench.particle_quickstart', *sys.argv[1:]])
  print(f'machine: {os.cpu_count()} cores '
        f'({len(os.sched_getaffinity(0))} available), {report.cpu_model()}')
  print('| seed | success rate | eval episodes | train steps | steps/s | '
        'collect (s) | train + eval (s) |')
  print('| --- | --- | --- | --- | --- | --- | --- |')
  header = provenance(command)
  output = os.path.join(_REPO, FLAGS.output)
  os.makedirs(os.path.dirname(output), exist_ok=True)
  runs = []
  for seed in map(int, FLAGS.seeds):
    run_dir = os.path.join(FLAGS.work_dir, f'seed{seed}')
    shutil.rmtree(run_dir, ignore_errors=True)
    runs.append(_run_once(run_dir, seed))
    print(_row(str(seed), runs[-1]), flush=True)
    result = record(header, runs)
    # Written after every run, so a run cut short keeps its finished seeds.
    with open(output, 'w') as f:
      json.dump(result, f, indent=2)
      f.write('\n')
  rates = result['spread']['success_rate']
  print(f'success rate over {len(runs)} runs: min {rates["min"]:.2f}, '
        f'mean {rates["mean"]:.3f}, max {rates["max"]:.2f}')
  print(f'wrote {output}')


if __name__ == '__main__':
  app.run(main)
