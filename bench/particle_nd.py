r"""The N-D particle study: success rate per action dimension and method.

    C=gin_configs/particle
    python -m bench.particle_nd --dims=2,4,8,16 \
        --configs=$C/ibc_langevin.gin,$C/ibc_dfo.gin --num_iterations=6000 \
        [--method_iterations=mse=30000] [--num_episodes=1000] \
        [--dart_noise=0.04] [--seeds=0,1] \
        [--variants='lr3e-4: train_eval.learning_rate = 3e-4'] \
        [--chart=docs/particle_nd.png] [--gin_bindings=...] \
        [--work_dir=/tmp/ibc_nd] [--output=docs/benchmarks.md] \
        [--summary=docs/results/particle_nd.json]

The IBC paper's Figure 6: as the particle's dimension grows, implicit models
should hold their success. For every dimension one oracle dataset is collected
(`ParticleEnv.n_dim = d`); every config then trains on it with the same fixed
budget of train steps (`--method_iterations` gives one method its own), in
a fresh `python -m ibc_agents.train` process, and is evaluated on the same
seeded episodes. The `## Particle N-D study` section of
--output is written (or replaced) with one row per config and one column per
dimension (mean ± standard deviation over the training seeds; a run with
validation episodes counts its best-validated policy), and
`--chart` draws it as the paper's figure. `--summary` records the study
(command, commit, machine, every run's evaluations and its best, last-5 and
validation-chosen figures), from which `bench.results_tables` renders the
section's table. `--dart_noise` collects DART data
instead: the oracle's actions executed with Gaussian noise of that Euclidean
size (per unit of action range, so `dart_noise / sqrt(d)` per dimension)
and recorded clean. A run that finished with the same config, dataset and
bindings is reused and an unfinished one resumes from its last checkpoint,
so an interrupted study picks up where it stopped. `--variants` are the
ablations of one change at a time: each trains the first config again with
its bindings added, as the method `NAME+LABEL`.
"""
import dataclasses
import json
import math
import os
import re
import shlex
import shutil
import time
from typing import Any, Dict, List, Sequence

from absl import app
from absl import flags

from bench import cli
from bench import compare
from bench import protocol
from bench import report
from ibc_agents.train import train_eval

HEADING = '## Particle N-D study'
RECORD_NAME = 'particle_nd'  # docs/results/particle_nd.json
CHOSEN_DEFINITION = ('the evaluation of the policy that scored best on the '
                     'validation episodes (`train_eval.validation_episodes`), '
                     'else the final evaluation')
_SETTINGS_FILE = 'study_settings.json'  # beside a finished run's results.json


def _write_settings(path: str, settings: Dict[str, Any],
                    finished: bool) -> None:
  with open(path, 'w') as f:
    json.dump(dict(settings, finished=finished), f, indent=1)


def train_or_reuse(gin_file: str, dataset: str, root_dir: str,
                   gin_bindings: Sequence[str]) -> Dict[str, Any]:
  """The results of a finished run with these settings, else a trained one's.

  A run started with these settings and not finished (the study was
  stopped) resumes from its last checkpoint; a run with other settings is
  replaced. The settings hold the gin file's text, not that of the files it
  includes.
  """
  with open(gin_file) as f:
    settings = dict(gin_file=gin_file, gin_text=f.read(), dataset=dataset,
                    gin_bindings=list(gin_bindings))
  settings_path = os.path.join(root_dir, _SETTINGS_FILE)
  started = False
  if os.path.exists(settings_path):
    with open(settings_path) as f:
      recorded = json.load(f)
    finished = recorded.pop('finished', True)  # older files: finished runs
    if recorded == settings and finished:
      print(f'particle_nd: reusing the finished run in {root_dir}',
            flush=True)
      with open(os.path.join(root_dir, train_eval.RESULTS_FILE)) as f:
        return json.load(f)
    started = recorded == settings
  if started:
    print(f'particle_nd: resuming the unfinished run in {root_dir}',
          flush=True)
  else:
    shutil.rmtree(root_dir, ignore_errors=True)
    os.makedirs(root_dir)
    _write_settings(settings_path, settings, finished=False)
  run = compare.train_run(gin_file, dataset, root_dir, gin_bindings,
                          fresh=False)
  _write_settings(settings_path, settings, finished=True)
  return run


def _define_flags(values: flags.FlagValues) -> None:
  flags.DEFINE_list('dims', ['2', '4', '8', '16'], 'Particle dimensions.',
                    flag_values=values)
  cli.define_configs(values, 'Gin files, one method each.')
  flags.DEFINE_integer('num_iterations', 6000,
                       'Train steps of every run (the fixed budget).',
                       lower_bound=1, flag_values=values)
  flags.DEFINE_list('method_iterations', [],
                    'NAME=STEPS: train steps of the method of NAME.gin '
                    'instead of --num_iterations (e.g. a cheap baseline '
                    'trained to its plateau).', flag_values=values)
  flags.DEFINE_integer('num_episodes', 1000,
                       'Oracle demonstrations per dimension.', lower_bound=1,
                       flag_values=values)
  flags.DEFINE_float('dart_noise', 0.0,
                     'Euclidean size of the noise executed on the oracle\'s '
                     'actions while collecting (0: plain demonstrations).',
                     lower_bound=0.0, flag_values=values)
  flags.DEFINE_list('seeds', ['0'], 'Training seeds of every run.',
                    flag_values=values)
  flags.DEFINE_multi_string(
      'variants', [], "'LABEL: BINDING[; BINDING...]': the first config "
      'trained again with these bindings, reported as NAME+LABEL '
      '(repeatable).', flag_values=values)
  flags.DEFINE_string('chart', '', 'PNG of success against dimension '
                      '(none if empty).', flag_values=values)
  cli.define_run_flags(values, '/tmp/ibc_nd',
                       'Markdown file whose study section is written.')
  flags.DEFINE_string('summary', os.path.join('/tmp', 'ibc_nd',
                                              f'{RECORD_NAME}.json'),
                      'JSON record of the study (docs/results/'
                      f'{RECORD_NAME}.json for the docs).',
                      flag_values=values)


def parse_args(argv: Sequence[str]) -> cli.Args:
  """Parses and checks the command line."""
  args = cli.parse(_define_flags, argv, 'bench.particle_nd')
  try:
    args.dims = [int(dim) for dim in args.dims]
  except ValueError:
    raise app.UsageError(
        f'--dims must be comma-separated integers, got {args.dims}') from None
  cli.require(all(dim >= 1 for dim in args.dims),
              f'--dims must be positive, got {args.dims}')
  cli.require(bool(args.seeds) and all(seed.isdigit() for seed in args.seeds),
              f'--seeds must be non-negative integers, got {args.seeds}')
  args.seeds = [int(seed) for seed in args.seeds]
  args.configs, args.names = cli.gin_files(args.configs)
  args.method_bindings = {name: [] for name in args.names}
  args.method_configs = dict(zip(args.names, args.configs))
  for entry in args.variants:
    label, _, bindings = entry.partition(':')
    label = label.strip()
    bindings = [binding.strip() for binding in bindings.split(';')
                if binding.strip()]
    cli.require(bool(re.fullmatch(r'[\w.-]+', label)) and bool(bindings),
                f"--variants must be 'LABEL: BINDING[; BINDING...]' with a "
                f'label of letters, digits, -, _ and ., got {entry!r}')
    name = f'{args.names[0]}+{label}'
    cli.require(name not in args.method_bindings,
                f'--variants: label {label!r} given twice')
    args.method_bindings[name] = bindings
    args.method_configs[name] = args.configs[0]
  args.names = list(args.method_bindings)
  iterations = {}
  for entry in args.method_iterations:
    name, _, steps = entry.partition('=')
    cli.require(steps.isdigit() and int(steps) >= 1,
                f'--method_iterations must be NAME=STEPS with STEPS >= 1, '
                f'got {entry!r}')
    iterations[name] = int(steps)
  cli.known_names('--method_iterations', list(iterations), args.names)
  config_names = dict(zip(args.configs, args.names))  # variants: the base's
  args.iterations = {
      name: iterations.get(name, iterations.get(
          config_names[args.method_configs[name]], args.num_iterations))
      for name in args.names}
  return args


def chosen_success(run: dict) -> float:
  """A run's success: its best-validated policy's, else its final one's."""
  return run.get('best', run)['success_rate']


def success(runs: Sequence[dict]) -> tuple[float, float]:
  """(mean, population std) of `chosen_success` over a method's seeds."""
  return protocol.mean_std([chosen_success(run) for run in runs])


def run_record(seed: int, run: Dict[str, Any]) -> Dict[str, Any]:
  """One run's figures for the study's record."""
  figures = protocol.run_figures(run['eval_history'])
  return dict(seed=seed, train_steps=run['train_steps'],
              steps_per_sec=run['steps_per_sec'],
              eval_episodes=run['eval_episodes'],
              chosen=chosen_success(run),
              validated_step=run['best']['step'] if 'best' in run else None,
              success_rate=dataclasses.asdict(figures),
              eval_history=run['eval_history'])


def method_record(name: str, config: str, bindings: Sequence[str],
                  train_steps: int, dims: Sequence[int],
                  runs: Dict[int, List[dict]], seeds: Sequence[int]
                  ) -> Dict[str, Any]:
  """A method's cells: per dimension, its runs and their mean and std."""
  cells = []
  for dim in dims:
    records = [run_record(seed, run) for seed, run in zip(seeds, runs[dim])]
    summary = protocol.summarize([protocol.RunFigures(**record['success_rate'])
                                  for record in records])
    mean, std = protocol.mean_std([record['chosen'] for record in records])
    summary['chosen'] = dict(mean=mean, std=std)
    cells.append(dict(dim=dim, summary=summary, runs=records))
  return dict(name=name, config=os.path.relpath(config),
              gin_bindings=list(bindings), train_steps=train_steps,
              cells=cells)


def _run_name(name: str, seed: int) -> str:
  return name if seed == 0 else f'{name}_seed{seed}'


def main(argv: Sequence[str]) -> None:
  args = parse_args(argv)
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
  work_dir = os.path.abspath(args.work_dir)
  runs: Dict[str, Dict[int, List[dict]]] = {
      name: {dim: [] for dim in args.dims} for name in args.names}
  episodes: List[str] = []
  for dim in args.dims:
    bindings = ["train_eval.task = 'PARTICLE'", f'ParticleEnv.n_dim = {dim}'
                ] + args.gin_bindings
    action_noise = args.dart_noise / math.sqrt(dim)
    dataset = compare.prepare_dataset(
        'PARTICLE', args.num_episodes,
        os.path.join(work_dir, 'data', f'particle_{dim}d' + (
            f'_dart{args.dart_noise:g}' if args.dart_noise else '')),
        args.configs[:1], bindings, action_noise=action_noise)
    for name in args.names:
      for seed in args.seeds:
        start = time.perf_counter()
        run = train_or_reuse(
            args.method_configs[name], dataset,
            os.path.join(work_dir, 'runs', f'{dim}d', _run_name(name, seed)),
            bindings + args.method_bindings[name]
            + [f'train_eval.num_iterations = {args.iterations[name]}']
            + ([f'train_eval.seed = {seed}'] if seed else []))
        runs[name][dim].append(run)
        episodes.append(str(run['eval_episodes']))
        print(f'particle_nd: {dim}D {name} seed {seed}: success '
              f'{chosen_success(run):.2f}, {run["steps_per_sec"]:.1f} '
              f'steps/s ({time.perf_counter() - start:.0f} s)', flush=True)
  budget = f'{args.num_iterations} steps' + ''.join(
      f', {name} {steps}' for name, steps in args.iterations.items()
      if steps != args.num_iterations)
  if args.chart:
    report.draw_dimension_chart(
        args.dims, {name: [success(runs[name][dim]) for dim in args.dims]
                    for name in args.names}, args.chart,
        f'Particle N-D: success after {budget}')
  command = shlex.join(['python', '-m', 'bench.particle_nd', *argv])
  record = dict(
      report.provenance(command), section=HEADING, dims=args.dims,
      seeds=args.seeds, dataset=dict(
          episodes_per_dimension=args.num_episodes, collection_seed=0,
          dart_noise=args.dart_noise),
      eval_episodes=sorted(set(int(episode) for episode in episodes)),
      gin_bindings=args.gin_bindings,
      definitions=dict(protocol.DEFINITIONS, chosen=CHOSEN_DEFINITION),
      methods=[method_record(name, args.method_configs[name],
                             args.method_bindings[name],
                             args.iterations[name], args.dims, runs[name],
                             args.seeds) for name in args.names])
  print(report.write_record_section(
      args.output, HEADING, args.summary, record,
      [f'Record: `{os.path.relpath(args.summary)}`.']))
  print(f'particle_nd: wrote {args.output} ({HEADING}) and {args.summary}',
        flush=True)


if __name__ == '__main__':
  cli.run(main)
