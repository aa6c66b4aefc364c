r"""Compares behavioural-cloning configs on one task: success, speed, latency.

    C=gin_configs/particle
    python -m bench.compare --task=PARTICLE --seeds=3 \
        --configs=$C/ibc_dfo.gin,$C/mse.gin,$C/mdn.gin [--num_episodes=1000] \
        [--gin_bindings=...] [--work_dir=/tmp/ibc_compare] \
        [--output=docs/benchmarks.md] [--plot=docs/compare_particle.png] \
        [--goal_tolerance=0.02] [--action_noise=0.05] [--dataset=DIR] \
        [--resume]

One oracle dataset is collected per task (and reused by a later comparison with
the same collection settings; --action_noise collects DART data beside it),
unless --dataset names demonstrations to use. The oracle is also scored on the
evaluation's episodes as the runs are: the ceiling of a clone of it. Every
config trains on it for seeds 0..N-1 with its own budget and the
--gin_bindings, each run in a fresh
`python -m ibc_agents.train` process so gin and TensorFlow state never leak
between runs. Each exported policy is then timed on single observations. The
`## Comparison: <task>` section of --output is written (or replaced), the table
printed, a bar chart of final success rates drawn to --plot, success against
train step (every seed) to --curve_plot, and a machine-readable summary
(command, commit, machine, per-seed and summary figures) to --summary.

Each run is reported as the paper's protocol asks (see `bench.protocol`): the
best evaluation, the mean and spread of the last 5. `--goal_tolerance`
evaluates a block-pushing task at that success tolerance (the original's
train_eval evaluates Table 3 at 0.02 m); the demonstrations keep the
environment's own. With `--resume`, finished runs are read again and
unfinished ones resume from their checkpoints, so a killed comparison
continues when rerun with the same flags.
"""
import dataclasses
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

from absl import app
from absl import flags
import gin
import tensorflow as tf
from tf_agents.policies import py_tf_eager_policy

import environments
from data_tools import collect
from data_tools import collection_settings
from data_tools import dataset_statistics
from data_tools import demos
from bench import cli
from bench import latency
from bench import protocol
from bench import report
from bench import results_tables
from ibc_agents.train import settings
from ibc_agents.train import train_eval

_DATA_SEED = 0  # collection seed: every comparison sees the same data
_NUM_WORKERS = 2  # collection processes
_WARMUP_CALLS = 10  # untimed policy calls (tracing, allocation)
_TIMED_CALLS = 50  # policy calls the latency median is taken over
WALL_TIME_FILE = 'wall_time.json'  # a run's training-command seconds, summed
_RECORD_PREFIX = 'compare_'  # a record bench.results_tables renders as ours
_ORACLE_SUCCESS_FILE = 'oracle_success.json'  # beside the collected data
# The first evaluation episode's seed (`train_eval.eval_seed`'s default).
_EVAL_SEED = settings.TrainEvalSettings.eval_seed
# Figures recorded where every run's evaluations report them: block-pushing
# p1 and p2 (one block, both blocks), D4RL's normalized score.
_OPTIONAL_FIGURES = ('p1', 'p2', 'normalized_score_mean')


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
  flags.DEFINE_string('curve_plot', None,
                      'Success-against-step PNG (default '
                      'docs/compare_<task>_curves.png).', flag_values=values)
  flags.DEFINE_string('summary', None,
                      'Run summary JSON (default '
                      'docs/results/compare_<task>.json).', flag_values=values)
  flags.DEFINE_float('goal_tolerance', None,
                     'Block-pushing tasks: evaluate at this success '
                     'tolerance in metres (0.02 for the paper\'s Table 3); '
                     "default: the environment's own.", flag_values=values)
  flags.DEFINE_string('dataset', None,
                      'Demonstrations to train on instead of collecting '
                      "--num_episodes of the task's oracle, e.g. a D4RL "
                      'dataset in the reference format.', flag_values=values)
  flags.DEFINE_float('action_noise', 0.0,
                     'DART demonstrations: the oracle\'s actions executed '
                     'with Gaussian noise of this standard deviation per '
                     'unit of action range, recorded clean (`collect`).',
                     lower_bound=0.0, flag_values=values)
  flags.DEFINE_integer('oracle_episodes', 100,
                       'Evaluation episodes the oracle that collected the '
                       'demonstrations is scored on, as the runs are (0: '
                       'none).', lower_bound=0, flag_values=values)
  flags.DEFINE_bool('resume', False,
                    'Keep existing runs: read finished ones, resume '
                    'unfinished ones from their checkpoints.',
                    flag_values=values)


def parse_args(argv: Sequence[str]) -> cli.Args:
  """Parses and checks the command line."""
  args = cli.parse(_define_flags, argv, 'bench.compare')
  args.configs, args.names = cli.gin_files(args.configs)
  cli.require(not args.baseline or args.baseline in args.names,
              f'--baseline={args.baseline} is none of {args.names}; pass '
              '--baseline= for no ratios')
  task = args.task.lower()
  args.plot = args.plot or os.path.join('docs', f'compare_{task}.png')
  args.curve_plot = args.curve_plot or os.path.join(
      'docs', f'compare_{task}_curves.png')
  args.summary = args.summary or os.path.join('docs', 'results',
                                              f'compare_{task}.json')
  cli.require(args.dataset is None or os.path.isdir(args.dataset),
              f'--dataset: no such directory: {args.dataset}')
  cli.require(os.path.basename(args.summary).startswith(_RECORD_PREFIX),
              f'--summary: the file name must start with {_RECORD_PREFIX!r} '
              f'(bench.results_tables renders it), got {args.summary}')
  args.eval_bindings = []
  if args.goal_tolerance is not None:
    try:
      args.eval_bindings = [environments.success_tolerance_binding(
          args.task, args.goal_tolerance)]
    except ValueError as error:
      raise app.UsageError(f'--goal_tolerance: {error}') from None
  return args


def dataset_dir(work_dir: str, task: str, action_noise: float) -> str:
  """Where a comparison's collected demonstrations go: one directory per
  task and noise, so DART data never replaces the clean data other runs
  trained on."""
  name = f'{task}_dart{action_noise:g}' if action_noise else task
  return os.path.join(work_dir, 'data', name)


def collection_bindings(gin_bindings: Sequence[str]) -> List[str]:
  """The bindings that shape the demonstrations: all but the training's own
  (`train_eval.*`)."""
  return [binding for binding in gin_bindings
          if not binding.lstrip().startswith('train_eval.')]


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
  gin_bindings = collection_bindings(gin_bindings)
  settings = dict(num_workers=_NUM_WORKERS, seed=_DATA_SEED,
                  gin_files=gin_files, gin_bindings=gin_bindings,
                  action_noise=action_noise)
  if collection_settings.is_finished(data_dir, task, num_episodes, **settings):
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


def _finished(root_dir: str) -> bool:
  """Whether `root_dir` holds a run trained to its configured length."""
  results_path = os.path.join(root_dir, train_eval.RESULTS_FILE)
  if not os.path.exists(results_path):
    return False
  gin.clear_config()
  try:
    train_eval.parse_operative_config(root_dir)
    num_iterations = gin.query_parameter('train_eval.num_iterations')
  finally:
    gin.clear_config()
  with open(results_path) as f:
    return json.load(f).get('train_steps', 0) >= num_iterations


def _add_wall_seconds(root_dir: str, seconds: float) -> None:
  """Adds `seconds` to the run's training wall time (over resumptions)."""
  total = _wall_seconds(root_dir) + seconds
  with open(os.path.join(root_dir, WALL_TIME_FILE), 'w') as f:
    json.dump(dict(seconds=total), f)


def _wall_seconds(root_dir: str) -> float:
  """The run's training wall time so far (0 without a record)."""
  path = os.path.join(root_dir, WALL_TIME_FILE)
  if not os.path.exists(path):
    return 0.0
  with open(path) as f:
    return float(json.load(f)['seconds'])


def run_method(task: str, gin_file: str, name: str, dataset: str,
               bindings: Sequence[str], num_seeds: int,
               runs_dir: str, resume: bool = False) -> report.MethodResult:
  """Trains `gin_file` for seeds 0..num_seeds-1; times each exported policy.

  With `resume`, a finished run in its directory is read instead of trained
  and an unfinished one resumes from its checkpoint.
  """
  result = report.MethodResult(name, [], [], [], [], [])
  for seed in range(num_seeds):
    root_dir = os.path.join(runs_dir, name, f'seed{seed}')
    seed_bindings = list(bindings) + [f'train_eval.seed = {seed}']
    start = time.perf_counter()
    if resume and _finished(root_dir):
      with open(os.path.join(root_dir, train_eval.RESULTS_FILE)) as f:
        run = json.load(f)
      print(f'compare: {name} seed {seed}: reading the finished run in '
            f'{root_dir}', flush=True)
    else:
      run = train_run(gin_file, dataset, root_dir, seed_bindings,
                      fresh=not (resume and os.path.isdir(root_dir)))
      _add_wall_seconds(root_dir, time.perf_counter() - start)
    latency = policy_latency_ms(root_dir, task)
    result.success_rates.append(run['success_rate'])
    result.train_steps.append(run['train_steps'])
    result.steps_per_sec.append(run['steps_per_sec'])
    result.latency_ms.append(latency)
    result.eval_episodes.append(run['eval_episodes'])
    result.histories.append(run['eval_history'])
    result.wall_seconds.append(_wall_seconds(root_dir))
    figures = protocol.run_figures(run['eval_history'])
    print(f'compare: {name} seed {seed}: best {figures.best:.2f}, last-5 '
          f'mean {figures.last_mean:.2f}, spread {figures.last_spread:.2f}, '
          f'{run["steps_per_sec"]:.1f} steps/s, {latency:.2f} ms/action '
          f'({time.perf_counter() - start:.0f} s)', flush=True)
  return result


def oracle_success(task: str, gin_files: Sequence[str],
                   gin_bindings: Sequence[str], goal_tolerance: Optional[float],
                   num_episodes: int, cache_dir: str) -> float:
  """The success rate of the oracle, set up as it collected the
  demonstrations, on the evaluation's first `num_episodes` episodes (from
  the `train_eval.eval_seed` the bindings give the runs) scored as the runs
  are (at `goal_tolerance` where given): what a clone that copied it
  exactly would reach.

  The figure is kept in `cache_dir` (the dataset's directory, emptied when
  the data is collected again) per tolerance, episode count and first seed.
  """
  cache_path = os.path.join(cache_dir, _ORACLE_SUCCESS_FILE)
  cached = {}
  if os.path.exists(cache_path):
    with open(cache_path) as f:
      cached = json.load(f)
  environments.import_modules(task)
  gin.clear_config()
  try:
    # Not finalized, as in `collect`: the oracle's module registers lazily.
    gin.parse_config_files_and_bindings(gin_files, gin_bindings,
                                        finalize_config=False)
    try:
      first_seed = gin.query_parameter('train_eval.eval_seed')
    except ValueError:  # not bound
      first_seed = _EVAL_SEED
    key = f'{goal_tolerance} m, {num_episodes} episodes' + (
        f' from seed {first_seed}' if first_seed != _EVAL_SEED else '')
    if key in cached:
      return cached[key]
    successes = 0
    for seed in range(first_seed, first_seed + num_episodes):
      env = environments.make(task, seed=seed)
      try:
        oracle = environments.make_oracle(task, env)  # the collection's
        if goal_tolerance is not None:
          env.success_tolerance = goal_tolerance
        _, success = next(collect.run_episodes(env, oracle))
        successes += success
      finally:
        env.close()
  finally:
    gin.clear_config()
  cached[key] = successes / num_episodes
  with open(cache_path, 'w') as f:
    json.dump(cached, f, indent=1)
  return cached[key]


def collection_tolerance(task: str,
                         gin_bindings: Sequence[str]) -> Optional[float]:
  """The success tolerance the demonstrations were collected at (None if the
  task has none): the environment's own, unless `gin_bindings` (the
  comparison's, which shape the collection too) set it."""
  environments.import_modules(task)  # registers its environment with gin
  gin.clear_config()
  try:
    gin.parse_config(collection_bindings(gin_bindings))
    env = environments.make(task)
    try:
      return getattr(env, 'success_tolerance', None)
    finally:
      env.close()
  finally:
    gin.clear_config()


def evaluation_text(task: str, goal_tolerance: Optional[float],
                    eval_bindings: Sequence[str],
                    own_tolerance: Optional[float]) -> str:
  """The success rule the evaluations used (a clause, no final stop)."""
  if goal_tolerance is not None:
    return (f'success within {goal_tolerance} m of the target(s) '
            f'(`{eval_bindings[0]}`, bound for evaluation only; the '
            f'demonstrations were collected at {own_tolerance} m)')
  if own_tolerance is not None:
    return (f"success within the environment's own {task} tolerance, "
            f'{own_tolerance} m')
  return f"{task}'s own success rule"


def summary(args: cli.Args, command: str,
            stats: dataset_statistics.DatasetStatistics, evaluation: str,
            results: Sequence[report.MethodResult],
            oracle: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
  """The comparison as plain JSON: provenance, per-seed and summary figures.

  One record per section of --output: `section` is its heading, `methods`
  its rows, each with `summary` (mean and std over seeds of each figure in
  `definitions`) and `runs` (each seed's figures and evaluations); the
  dataset's `oracle`, where measured, is its collector's success under the
  same evaluation (`oracle_success`).
  """
  methods = []
  for gin_file, result in zip(args.configs, results):
    keys = ['success_rate'] + [key for key in _OPTIONAL_FIGURES
                               if result.has(key)]
    runs = []
    for seed in range(len(result.histories)):
      run = dict(seed=seed, train_steps=result.train_steps[seed],
                 steps_per_sec=result.steps_per_sec[seed],
                 wall_seconds=result.wall_seconds[seed],
                 latency_ms=result.latency_ms[seed],
                 eval_episodes=result.eval_episodes[seed],
                 eval_history=result.histories[seed])
      run.update({key: dataclasses.asdict(result.figures(key)[seed])
                  for key in keys})
      runs.append(run)
    methods.append(dict(
        name=result.name, config=os.path.relpath(gin_file),
        summary={key: protocol.summarize(result.figures(key))
                 for key in keys},
        runs=runs))
  return dict(
      report.provenance(command), section=f'## Comparison: {args.task}',
      task=args.task, evaluation=dict(
          text=evaluation, goal_tolerance_m=args.goal_tolerance,
          gin_bindings=args.eval_bindings),
      dataset=dict(episodes=stats.num_episodes, steps=stats.num_steps,
                   collection_seed=None if args.dataset else _DATA_SEED,
                   path=args.dataset and os.path.relpath(args.dataset),
                   **(dict(action_noise=args.action_noise)
                      if args.action_noise else {}),
                   **(dict(oracle=oracle) if oracle else {})),
      gin_bindings=args.gin_bindings, seeds=list(range(args.seeds)),
      baseline=args.baseline or None,
      definitions=protocol.DEFINITIONS, methods=methods)


def main(argv: Sequence[str]) -> None:
  args = parse_args(argv)
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
  # The training processes share the GPU with this one.
  for gpu in tf.config.list_physical_devices('GPU'):
    tf.config.experimental.set_memory_growth(gpu, True)
  bindings = [f'train_eval.task = {args.task!r}'] + args.gin_bindings
  work_dir = os.path.abspath(args.work_dir)
  # The evaluation bindings stay out of the collection.
  dataset = os.path.abspath(args.dataset) if args.dataset else (
      prepare_dataset(args.task, args.num_episodes,
                      dataset_dir(work_dir, args.task, args.action_noise),
                      args.configs[:1], bindings, args.action_noise))
  stats = demos.load_or_compute_statistics(dataset)
  oracle = None
  if (args.oracle_episodes and not args.dataset
      and args.task in environments.tasks_with_oracle()):
    oracle = dict(episodes=args.oracle_episodes, success_rate=oracle_success(
        args.task, args.configs[:1], bindings, args.goal_tolerance,
        args.oracle_episodes, dataset))
    print(f'compare: the oracle succeeds in {oracle["success_rate"]:.2f} of '
          f'{args.oracle_episodes} evaluation episodes', flush=True)
  results = [run_method(args.task, gin_file, name, dataset,
                        bindings + args.eval_bindings, args.seeds,
                        os.path.join(work_dir, 'runs', args.task), args.resume)
             for gin_file, name in zip(args.configs, args.names)]
  report.draw_success_chart(results, args.plot,
                     f'{args.task}: final success rate, mean ± std over '
                     f'{args.seeds} seed(s)')
  report.draw_step_curves(results, args.curve_plot,
                          f'{args.task}: success rate against train step, '
                          f'{args.seeds} seed(s)')
  heading = f'## Comparison: {args.task}'
  command = shlex.join(['python', '-m', 'bench.compare', *argv])
  evaluation = evaluation_text(args.task, args.goal_tolerance,
                               args.eval_bindings,
                               collection_tolerance(args.task, bindings))
  record = summary(args, command, stats, evaluation, results, oracle)
  protocol.write_summary(args.summary, record)
  name = os.path.splitext(os.path.basename(args.summary))[0]
  output_dir = os.path.dirname(os.path.abspath(args.output))
  section = report.format_section(
      heading, results_tables.marked_table(name, record),
      f'Dataset: {results_tables.dataset_text(record["dataset"])}, the same for every '
      f'run; record: `{os.path.relpath(args.summary)}`.',
      results,
      [('success rate against train step, each seed',
        os.path.relpath(args.curve_plot, output_dir)),
       ('final success rate per method',
        os.path.relpath(args.plot, output_dir))],
      f'median of {_TIMED_CALLS} calls after {_WARMUP_CALLS} warm-up calls')
  report.write_section(args.output, heading, section)
  print(report.format_table(results))
  print(f'compare: wrote {args.output} ({heading}), {args.summary}, '
        f'{args.plot} and {args.curve_plot}', flush=True)


if __name__ == '__main__':
  cli.run(main)
