r"""Scaling out on loopback: server readers, strategies, evaluation workers.

    python -m bench.scale [--sections=replay,train,eval,parity] \
        [--work_dir=/tmp/ibc_scale] [--readers=1,2,4] [--train_steps=400] \
        [--output=docs/benchmarks.md] [--summary=docs/results/scale.json]

Writes one record (--summary) holding the sections run, and the
`## Scaling out` section of --output from it, one table per section:

- replay: batches/s of `--batch_size` particle windows read from a
  standalone `data_tools.replay_server` by 1, 2 and 4 reader processes (per
  reader and in total), through its loopback relay and bound to every
  interface (no relay), against the embedded server's in-process reader.
- train: train steps/s of particle IBC-DFO in one process, under `mirrored`
  on 2 logical CPU devices, and as 2 `multi_worker` processes reading one
  server (each at the same global batch), timed after the first
  `log_interval` steps (tracing).
- eval: wall time of 100 PUSH evaluation episodes (a briefly trained MSE
  policy) with 1 and 2 `eval_workers`, and whether the results are equal.
- parity: the shipped particle IBC-DFO training under `default` and under
  `mirrored` (2 logical CPUs), same global batch and seed: final success.

Every process shares the machine's cores, so the totals show where the
cores cap the scaling; the per-process figures predict more cores or hosts.
"""
import json
import os
import re
import shlex
import subprocess
import sys
import textwrap
import time
from typing import Any, Dict, List, Sequence

from bench import cli

_SECTIONS = ('replay', 'train', 'eval', 'parity')
HEADING = '## Scaling out'
RECORD_NAME = 'scale'  # docs/results/scale[_LABEL].json
# The replay section's servers.
EMBEDDED = 'embedded, in-process reader'
LOOPBACK = 'standalone, loopback relay'
EVERY_INTERFACE = 'standalone, every interface (no relay)'

_ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2')
_PARTICLE_IMPORT = 'import environments.particle.particle_env'
_DFO = 'gin_configs/particle/ibc_dfo.gin'
_LOG_INTERVAL = 50


def _define_flags(values) -> None:
  from absl import flags  # pylint: disable=g-import-not-at-top
  flags.DEFINE_list('sections', list(_SECTIONS), 'Sections to run.',
                    flag_values=values)
  flags.DEFINE_string('work_dir', '/tmp/ibc_scale', 'Datasets and runs.',
                      flag_values=values)
  flags.DEFINE_list('readers', ['1', '2', '4'], 'Reader process counts.',
                    flag_values=values)
  flags.DEFINE_integer('batch_size', 512, 'Windows per batch (replay).',
                       flag_values=values)
  flags.DEFINE_float('seconds', 10.0, 'Timed seconds per reader.',
                     flag_values=values)
  flags.DEFINE_integer('train_steps', 400, 'Train steps per timed run.',
                       flag_values=values)
  flags.DEFINE_integer('eval_episodes', 100, 'PUSH evaluation episodes.',
                       flag_values=values)
  # A reader process (started by the replay section).
  flags.DEFINE_string('reader', None, 'Internal: read from this address.',
                      flag_values=values)
  flags.DEFINE_float('start_at', 0.0, 'Internal: when readers start timing.',
                     flag_values=values)
  cli.define_record_flags(values, RECORD_NAME)


def _python(script: str, **env: str) -> subprocess.CompletedProcess:
  done = subprocess.run([sys.executable, '-c', textwrap.dedent(script)],
                        capture_output=True, text=True, check=False,
                        env=dict(_ENV, **env))
  if done.returncode:
    raise RuntimeError(f'A benchmark process failed:\n{done.stderr[-3000:]}')
  return done


def _particle_data(work_dir: str) -> str:
  """1000 particle oracle episodes (collected once)."""
  # pylint: disable=g-import-not-at-top
  from data_tools import collect
  from data_tools import collection_settings
  # pylint: enable=g-import-not-at-top
  path = os.path.join(work_dir, 'particle')
  if not collection_settings.is_finished(path, 'PARTICLE', 1000, num_workers=2):
    collect.collect('PARTICLE', 1000, path, num_workers=2)
  return path


class _Server:
  """A `data_tools.replay_server` process on the particle data."""

  def __init__(self, dataset: str, host: str = '127.0.0.1'):
    self.process = subprocess.Popen(
        [sys.executable, '-m', 'data_tools.replay_server',
         f'--dataset={dataset}', '--task=PARTICLE', f'--host={host}',
         f'--gin_bindings={_PARTICLE_IMPORT}'],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env=_ENV)
    for line in self.process.stdout:
      if line.startswith('Serving'):
        self.address = line.split(' at ')[-1].strip().replace('0.0.0.0',
                                                              '127.0.0.1')
        return
    raise RuntimeError('The demonstration server did not start.')

  def __enter__(self) -> '_Server':
    return self

  def __exit__(self, *unused_exc) -> None:
    self.process.terminate()
    self.process.wait(timeout=60)


def batches_per_second(dataset, seconds: float,
                       start_at: float = 0.0) -> float:
  """Batches/s read from `dataset` for `seconds` after a warm-up.

  Timing starts no earlier than `start_at` (a `time.time()`), so that
  concurrent readers time the same interval.
  """
  iterator = iter(dataset)
  for _ in range(5):
    next(iterator)
  time.sleep(max(0.0, start_at - time.time()))
  count, start = 0, time.perf_counter()
  while time.perf_counter() - start < seconds:
    next(iterator)
    count += 1
  return count / (time.perf_counter() - start)


def _read(address: str, batch_size: int, start_at: float,
          seconds: float) -> None:
  """Reader process: prints the batches/s it read."""
  from data_tools import replay  # pylint: disable=g-import-not-at-top
  rate = batches_per_second(replay.sample_dataset(address, batch_size),
                            seconds, start_at)
  print(f'rate {rate:.3f}', flush=True)


def _readers(address: str, count: int, args: cli.Args) -> List[float]:
  """Each of `count` concurrent reader processes' batches/s."""
  start_at = time.time() + 20.0  # after every reader has started
  processes = [subprocess.Popen(
      [sys.executable, '-m', 'bench.scale', f'--reader={address}',
       f'--batch_size={args.batch_size}', f'--seconds={args.seconds}',
       f'--start_at={start_at}'], stdout=subprocess.PIPE,
      stderr=subprocess.DEVNULL, text=True, env=_ENV) for _ in range(count)]
  rates = []
  for process in processes:
    stdout, _ = process.communicate()
    rates.append(float(re.search(r'rate (\S+)', stdout).group(1)))
  return rates


def _replay_section(args: cli.Args) -> Dict[str, Any]:
  """Batches/s per reader and in total, for each server and reader count."""
  dataset = _particle_data(args.work_dir)
  embedded = _python(f'''
      from bench import scale
      from data_tools import demos, replay
      import environments
      spec = demos.trajectory_spec_from_env(environments.make('PARTICLE'))
      with replay.DemonstrationReplay.from_dataset(
          {dataset!r}, 'PARTICLE', spec, 2) as served:
        print('rate', scale.batches_per_second(
            served.as_dataset({args.batch_size}), {args.seconds}))
  ''')
  embedded_rate = float(re.search(r'rate (\S+)', embedded.stdout).group(1))
  rows = [dict(server=EMBEDDED, readers=1, rates=[embedded_rate])]
  for host, name in (('127.0.0.1', LOOPBACK), ('0.0.0.0', EVERY_INTERFACE)):
    with _Server(dataset, host) as server:
      for count in map(int, args.readers):
        rows.append(dict(server=name, readers=count,
                         rates=_readers(server.address, count, args)))
  return dict(batch_size=args.batch_size, seconds=args.seconds, rows=rows)


def _interval_rate(stdout: str) -> float:
  """Steps/s after the first progress line, from the cumulative rates."""
  points = [(int(step), float(rate)) for step, rate in re.findall(
      r'^step (\d+)/\d+ \| (\S+) steps/s', stdout, re.M)]
  (first_step, first_rate), (last_step, last_rate) = points[0], points[-1]
  first_time = first_step / first_rate
  last_time = last_step / last_rate
  return (last_step - first_step) / (last_time - first_time)


def _train_bindings(steps: int) -> List[str]:
  return [f'train_eval.num_iterations = {steps}',
          f'train_eval.log_interval = {_LOG_INTERVAL}',
          f'train_eval.eval_interval = {steps}', 'train_eval.eval_episodes = 2',
          'train_eval.eval_plot_fn = None']


def _train_in_process(dataset: str, root_dir: str, bindings: Sequence[str],
                      logical_cpus: int = 1) -> str:
  """Trains particle IBC-DFO in a fresh process; returns its output."""
  return _python(f'''
      import tensorflow as tf
      if {logical_cpus} > 1:
        tf.config.set_logical_device_configuration(
            tf.config.list_physical_devices('CPU')[0],
            [tf.config.LogicalDeviceConfiguration()] * {logical_cpus})
      import gin
      from ibc_agents.train import train_eval
      gin.parse_config_files_and_bindings([{_DFO!r}], {list(bindings)!r})
      results = train_eval.train_eval(root_dir={root_dir!r},
                                      dataset={dataset!r})
      print('results', results['success_rate'])
  ''').stdout


def _train_section(args: cli.Args) -> Dict[str, Any]:
  """Train steps/s of each way of training, after tracing."""
  dataset = _particle_data(args.work_dir)
  runs = os.path.join(args.work_dir, 'runs', str(time.time_ns()))
  bindings = _train_bindings(args.train_steps)
  rates: Dict[str, float] = {}
  rates['default (one process)'] = _interval_rate(_train_in_process(
      dataset, os.path.join(runs, 'default'), bindings))
  rates['mirrored, 2 logical CPU devices'] = _interval_rate(_train_in_process(
      dataset, os.path.join(runs, 'mirrored'),
      [*bindings, "train_eval.strategy = 'mirrored'"], logical_cpus=2))
  with _Server(dataset) as server:
    rates['default, reading a standalone server'] = _interval_rate(
        _train_cli(server, os.path.join(runs, 'remote'), bindings)[0])
    chief, _ = _train_cli(server, os.path.join(runs, 'multi_worker'),
                          bindings, workers=2)
    rates['multi_worker, 2 processes, one server'] = _interval_rate(chief)
  return dict(config=_DFO, first_step=_LOG_INTERVAL,
              last_step=args.train_steps, steps_per_sec=rates)


def _free_port() -> int:
  import socket  # pylint: disable=g-import-not-at-top
  with socket.socket() as sock:
    sock.bind(('127.0.0.1', 0))
    return sock.getsockname()[1]


def _train_cli(server: _Server, root_dir: str, bindings: Sequence[str],
               workers: int = 1) -> List[str]:
  """`python -m ibc_agents.train` processes reading `server`; their outputs."""
  command = [sys.executable, '-m', 'ibc_agents.train', f'--gin_file={_DFO}',
             f'--replay_server={server.address}', f'--root_dir={root_dir}',
             *[f'--gin_bindings={binding}' for binding in bindings]]
  envs = [_ENV]
  if workers > 1:
    command.append('--strategy=multi_worker')
    cluster = {'worker': [f'localhost:{_free_port()}' for _ in range(workers)]}
    envs = [dict(_ENV, TF_CONFIG=json.dumps(
        {'cluster': cluster, 'task': {'type': 'worker', 'index': index}}))
            for index in range(workers)]
  processes = [subprocess.Popen(command, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env)
               for env in envs]
  outputs = []
  for process in processes:
    stdout, stderr = process.communicate()
    if process.returncode:
      raise RuntimeError(f'A trainer failed:\n{stderr[-3000:]}')
    outputs.append(stdout)
  return outputs


def _eval_section(args: cli.Args) -> Dict[str, Any]:
  """Wall seconds of one evaluation with 1 and 2 workers, and its results."""
  # pylint: disable=g-import-not-at-top
  from data_tools import collect
  from data_tools import collection_settings
  # pylint: enable=g-import-not-at-top
  dataset = os.path.join(args.work_dir, 'push')
  if not collection_settings.is_finished(dataset, 'PUSH', 10):
    collect.collect('PUSH', 10, dataset)
  root_dir = os.path.join(args.work_dir, 'runs', f'push_mse_{time.time_ns()}')
  _python(f'''
      import gin
      from ibc_agents.train import train_eval
      gin.parse_config_files_and_bindings(
          ['gin_configs/pushing_states/mse.gin'],
          ['train_eval.num_iterations = 50', 'train_eval.eval_interval = 50',
           'train_eval.eval_episodes = 1'])
      train_eval.train_eval(root_dir={root_dir!r}, dataset={dataset!r})
  ''')
  rows = []
  for workers in (1, 2):
    done = _python(f'''
        import functools, time
        import gin
        from tf_agents.policies import py_tf_eager_policy
        from ibc_agents.train import evaluation, train_eval
        gin.parse_config_files_and_bindings(
            ['gin_configs/pushing_states/mse.gin'], [])
        policy = py_tf_eager_policy.SavedModelPyTFEagerPolicy(
            {os.path.join(root_dir, 'policy')!r}, load_specs_from_pbtxt=True,
            batch_time_steps=False)
        start = time.perf_counter()
        result = evaluation.evaluate(
            policy, functools.partial(train_eval.make_env, 'PUSH', 2),
            {args.eval_episodes}, seed=1_000_000, num_workers={workers})
        print('seconds', time.perf_counter() - start)
        print('result', evaluation.format_result(result.as_dict()))
    ''')
    rows.append(dict(
        eval_workers=workers,
        seconds=float(re.search(r'seconds (\S+)', done.stdout).group(1)),
        result=re.search(r'result (.*)', done.stdout).group(1)))
  return dict(episodes=args.eval_episodes, train_steps=50, rows=rows)


def _parity_section(args: cli.Args) -> Dict[str, Any]:
  """Final success and wall seconds of the shipped training per strategy."""
  dataset = _particle_data(args.work_dir)
  runs = os.path.join(args.work_dir, 'runs', f'parity_{time.time_ns()}')
  rows = []
  for strategy, cpus in (('default', 1), ('mirrored', 2)):
    start = time.perf_counter()
    stdout = _train_in_process(
        dataset, os.path.join(runs, strategy),
        ['train_eval.eval_plot_fn = None',
         f"train_eval.strategy = '{strategy}'",
         'train_eval.eval_episodes = 100'], logical_cpus=cpus)
    rows.append(dict(
        strategy=strategy,
        success_rate=float(re.search(r'^results (\S+)', stdout,
                                     re.M).group(1)),
        seconds=time.perf_counter() - start))
  return dict(config=_DFO, eval_episodes=100, rows=rows)


def main(argv: Sequence[str]) -> None:
  args = cli.parse(_define_flags, argv, 'bench.scale')
  if args.reader:
    _read(args.reader, args.batch_size, args.start_at, args.seconds)
    return
  sections = cli.known_names('--sections', args.sections, _SECTIONS)
  cli.require(all(count.isdigit() and int(count) > 0
                  for count in args.readers),
              f'--readers: positive counts, got {args.readers}')
  cli.require_record_name(args.summary, RECORD_NAME)
  # pylint: disable=g-import-not-at-top
  from bench import report
  # pylint: enable=g-import-not-at-top
  print(f'machine: {report.machine_description()}', flush=True)
  builders = {'replay': _replay_section, 'train': _train_section,
              'eval': _eval_section, 'parity': _parity_section}
  command = shlex.join(['python', '-m', 'bench.scale', *argv])
  record = dict(report.provenance(command), section=HEADING)
  for section in sections:
    start = time.perf_counter()
    record[section] = builders[section](args)
    print(f'scale: {section} took {time.perf_counter() - start:.0f} s',
          flush=True)
  record['load_average'] = os.getloadavg()[0]
  print(report.write_record_section(args.output, HEADING, args.summary,
                                    record))


if __name__ == '__main__':
  cli.run(main)
