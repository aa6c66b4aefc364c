r"""Compares behavioural-cloning configs on one task: success, speed, latency.

    C=gin_configs/particle
    python -m bench.compare --task=PARTICLE --seeds=3 \
        --configs=$C/ibc_dfo.gin,$C/mse.gin,$C/mdn.gin [--num_episodes=1000] \
        [--gin_bindings=...] [--work_dir=/tmp/ibc_compare] \
        [--output=docs/benchmarks.md] [--plot=docs/compare_particle.png]

One oracle dataset is collected per task (and reused by a later comparison with
the same collection settings). Every config trains on it for seeds 0..N-1 with
its own budget and the --gin_bindings, each run in a fresh
`python -m ibc_agents.train` process so gin and TensorFlow state never leak
between runs. Each exported policy is then timed on single observations. The
`## Comparison: <task>` section of --output is written (or replaced), the table
printed, and a bar chart of success rates drawn to --plot.
"""
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from typing import Any, Dict, List, Sequence, Tuple

from absl import flags
import gin
import tensorflow as tf
from tf_agents.policies import py_tf_eager_policy

from data_tools import collect
from data_tools import demos
from bench import cli
from bench import latency
from bench import report
from ibc_agents.train import train_eval

_DATA_SEED = 0  # collection seed: every comparison sees the same data
_NUM_WORKERS = 2  # collection processes
_WARMUP_CALLS = 10  # untimed policy calls (tracing, allocation)
_TIMED_CALLS = 50  # policy calls the latency median is taken over


def _define_flags(values: flags.FlagValues) -> None:
  flags.DEFINE_string('task', None, 'Registered task, e.g. PARTICLE.',
                      flag_values=values, required=True)
  cli.define_configs(values, 'Gin files, one method each.')
  flags.DEFINE_integer('seeds', 3, 'Runs per config, with train_eval.seed = '
                       '0..N-1.', lower_bound=1, flag_values=values)
  flags.DEFINE_integer('num_episodes', 1000,
                       'Oracle demonstrations to collect.', lower_bound=1,
                       flag_values=values)
  cli.define_run_flags(values, '/tmp/ibc_compare',
                       'Markdown file whose comparison section is written.')
  flags.DEFINE_string('plot', None,
                      'Bar chart PNG (default docs/compare_<task>.png).',
                      flag_values=values)
  flags.DEFINE_string('baseline', 'mse',
                      "Method the others' steps/s and latency are divided "
                      'by; "" for none.', flag_values=values)


def parse_args(argv: Sequence[str]) -> cli.Args:
  """Parses and checks the command line."""
  args = cli.parse(_define_flags, argv, 'bench.compare')
  args.configs, args.names = cli.gin_files(args.configs)
  cli.require(not args.baseline or args.baseline in args.names,
              f'--baseline={args.baseline} is none of {args.names}; pass '
              '--baseline= for no ratios')
  args.plot = args.plot or os.path.join('docs',
                                        f'compare_{args.task.lower()}.png')
  return args


def prepare_dataset(task: str, num_episodes: int, data_dir: str,
                    gin_files: Sequence[str], gin_bindings: Sequence[str],
                    action_noise: float = 0.0) -> str:
  """Collects oracle demonstrations into `data_dir`, reusing a matching dataset.

  The collection workers parse `gin_files` and `gin_bindings`, so the task's
  environment is configured as in training. `action_noise` is `collect`'s
  (DART: the oracle's actions executed with noise, recorded clean). The
  training's own bindings (`train_eval.*`) do not shape the demonstrations,
  so they are left out: a study that changes only them reuses the dataset.
  """
  gin_bindings = [binding for binding in gin_bindings
                  if not binding.lstrip().startswith('train_eval.')]
  settings = dict(num_workers=_NUM_WORKERS, seed=_DATA_SEED,
                  gin_files=gin_files, gin_bindings=gin_bindings,
                  action_noise=action_noise)
  if collect.is_finished(data_dir, task, num_episodes, **settings):
    print(f'compare: reusing the dataset in {data_dir}', flush=True)
    return data_dir
  shutil.rmtree(data_dir, ignore_errors=True)
  collect.collect(task, num_episodes, data_dir, **settings)
  return data_dir


def train_command(gin_file: str, dataset: str, root_dir: str,
                  gin_bindings: Sequence[str],
                  fresh: bool = True) -> Tuple[List[str], str]:
  """(`python -m ibc_agents.train` command, its log path) in `root_dir`.

  `fresh` empties `root_dir` first; otherwise the command resumes the run
  there from its last checkpoint.
  """
  if fresh:
    shutil.rmtree(root_dir, ignore_errors=True)
  os.makedirs(root_dir, exist_ok=True)
  command = [sys.executable, '-m', 'ibc_agents.train',
             f'--gin_file={gin_file}', f'--dataset={dataset}',
             f'--root_dir={root_dir}']
  command += [f'--gin_bindings={binding}' for binding in gin_bindings]
  return command, os.path.join(root_dir, 'train.log')


def train_run(gin_file: str, dataset: str, root_dir: str,
              gin_bindings: Sequence[str],
              fresh: bool = True) -> Dict[str, Any]:
  """Trains in a fresh process; returns the run's results.json.

  `fresh` starts in an emptied `root_dir`; otherwise the run there resumes.
  The process's output goes to (or, resuming, is added to)
  `root_dir/train.log`.
  """
  command, log_path = train_command(gin_file, dataset, root_dir, gin_bindings,
                                    fresh)
  with open(log_path, 'w' if fresh else 'a') as log:
    completed = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT,
                               check=False)
  if completed.returncode:
    with open(log_path) as log:
      tail = log.read()[-3000:]
    raise RuntimeError(f'Training failed: {shlex.join(command)}\n'
                       f'Last output ({log_path}):\n{tail}')
  with open(os.path.join(root_dir, train_eval.RESULTS_FILE)) as f:
    return json.load(f)


def policy_latency_ms(root_dir: str, task: str) -> float:
  """Median milliseconds of one action for one observation (batch of 1).

  Loads the run's exported SavedModel and feeds it real observations of the
  task, configured by the run's operative gin config and history-stacked as in
  training, stepping the environment with the policy's actions.
  """
  gin.clear_config()
  train_eval.parse_operative_config(root_dir)
  policy = py_tf_eager_policy.SavedModelPyTFEagerPolicy(
      os.path.join(root_dir, train_eval.POLICY_DIR),
      load_specs_from_pbtxt=True, batch_time_steps=False)
  observation_spec = tf.nest.flatten(policy.time_step_spec.observation)[0]
  history_length = observation_spec.shape[0]  # leaves are [T, ...]
  env = train_eval.make_env(task, history_length, seed=0)
  seconds = latency.action_seconds(policy, env, _TIMED_CALLS, _WARMUP_CALLS)
  env.close()
  gin.clear_config()
  return 1e3 * statistics.median(seconds)


def run_method(task: str, gin_file: str, name: str, dataset: str,
               bindings: Sequence[str], num_seeds: int,
               runs_dir: str) -> report.MethodResult:
  """Trains `gin_file` for seeds 0..num_seeds-1; times each exported policy."""
  result = report.MethodResult(name, [], [], [], [], [])
  for seed in range(num_seeds):
    root_dir = os.path.join(runs_dir, name, f'seed{seed}')
    start = time.perf_counter()
    run = train_run(gin_file, dataset, root_dir,
                    list(bindings) + [f'train_eval.seed = {seed}'])
    latency = policy_latency_ms(root_dir, task)
    result.success_rates.append(run['success_rate'])
    result.train_steps.append(run['train_steps'])
    result.steps_per_sec.append(run['steps_per_sec'])
    result.latency_ms.append(latency)
    result.eval_episodes.append(run['eval_episodes'])
    print(f'compare: {name} seed {seed}: success {run["success_rate"]:.2f}, '
          f'{run["steps_per_sec"]:.1f} steps/s, {latency:.2f} ms/action '
          f'({time.perf_counter() - start:.0f} s)', flush=True)
  return result


def main(argv: Sequence[str]) -> None:
  args = parse_args(argv)
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
  # The training processes share the GPU with this one.
  for gpu in tf.config.list_physical_devices('GPU'):
    tf.config.experimental.set_memory_growth(gpu, True)
  bindings = [f'train_eval.task = {args.task!r}'] + args.gin_bindings
  work_dir = os.path.abspath(args.work_dir)
  dataset = prepare_dataset(args.task, args.num_episodes,
                            os.path.join(work_dir, 'data', args.task),
                            args.configs[:1], bindings)
  stats = demos.DatasetStatistics.load(dataset)
  results = [run_method(args.task, gin_file, name, dataset, bindings,
                        args.seeds, os.path.join(work_dir, 'runs', args.task))
             for gin_file, name in zip(args.configs, args.names)]
  report.draw_success_chart(results, args.plot,
                     f'{args.task}: success rate, mean ± std over '
                     f'{args.seeds} seed(s)')
  heading = f'## Comparison: {args.task}'
  section = report.format_section(
      heading, shlex.join(['python', '-m', 'bench.compare', *argv]),
      report.machine_description(),
      f'Dataset: {stats.num_episodes} oracle episodes ({stats.num_steps} '
      f'steps, collection seed {_DATA_SEED}), the same for every run.',
      results, args.baseline,
      os.path.relpath(args.plot,
                      os.path.dirname(os.path.abspath(args.output))),
      f'median of {_TIMED_CALLS} calls after {_WARMUP_CALLS} warm-up calls')
  report.write_section(args.output, heading, section)
  print(report.format_table(results))
  if args.baseline and len(results) > 1:
    print(report.format_ratios(results, args.baseline))
  print(f'compare: wrote {args.output} ({heading}) and {args.plot}', flush=True)


if __name__ == '__main__':
  cli.run(main)
