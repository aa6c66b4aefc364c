r"""Command line: train and evaluate an agent configured by gin files.

    python -m ibc_agents.train --gin_file=gin_configs/particle/ibc_dfo.gin \
        --dataset=data/particle [--root_dir=runs/particle] [--gin_bindings=...]
        [--strategy=default|mirrored|multi_worker|tpu]
        [--replay_server=HOST:PORT] [--network=host|isolated]
    python -m ibc_agents.train --list_tasks | --list_configs
    python -m ibc_agents.train --gin_file=... --list_parameters

The process keeps the host's network. A Reverb server it needs for its
demonstrations runs in a child process that moves into a network namespace
of its own and is reached on loopback (`data_tools.server_process`), so
nothing it starts listens on another interface. `--network=isolated` moves
the whole training into its own namespace (loopback only) too, where the
kernel allows it: that is tried first, and refused with the reason where it
cannot work, or where the configuration needs other hosts.
"""
import os
import sys
from typing import Optional

from absl import app
from absl import flags
from absl import logging

from data_tools import console
from data_tools import network_isolation
from ibc_agents.train import STRATEGIES

_NEEDS_OTHER_PROCESSES = ('multi_worker', 'tpu')

flags.DEFINE_multi_string('gin_file', [], 'gin config files (repeatable).')
flags.DEFINE_multi_string('gin_bindings', [], 'gin bindings (repeatable).')
flags.DEFINE_string('root_dir', None,
                    'Run directory (default: runs/<last gin file name>).')
flags.DEFINE_string('dataset', None,
                    'Demonstrations: a dataset directory or a glob of shards '
                    '(overrides the gin config).')
flags.DEFINE_enum(
    'strategy', None, list(STRATEGIES),
    'tf.distribute strategy (overrides train_eval.strategy): one device, '
    'every local GPU (or logical CPU), the processes TF_CONFIG names, or a '
    'TPU.')
flags.DEFINE_string(
    'replay_server', None,
    'HOST:PORT of a `python -m data_tools.replay_server` to read the '
    'demonstrations from (instead of --dataset).')
flags.DEFINE_enum(
    'network', 'host', ['host', 'isolated'],
    'host: the process keeps the host\'s network (a Reverb server it starts '
    'still listens on loopback only); isolated: the whole training moves '
    'into a network namespace with loopback only (Linux, where the kernel '
    'allows unprivileged user namespaces).')
flags.DEFINE_bool('list_tasks', False, 'Print the registered tasks and exit.')
flags.DEFINE_bool('list_configs', False,
                  'Print the shipped gin configs (with their first comment '
                  'line) and exit.')
flags.DEFINE_bool('list_parameters', False,
                  'Print every gin parameter the --gin_file configs (and '
                  '--gin_bindings) expose, with its value, default and doc '
                  'line, and exit.')
FLAGS = flags.FLAGS

_CONFIGS_PACKAGE = 'gin_configs'


def _configs_root() -> str:
  """The directory holding `gin_configs/`: its parent."""
  import gin_configs  # pylint: disable=g-import-not-at-top
  return os.path.dirname(os.path.dirname(os.path.abspath(
      gin_configs.__file__)))


def shipped_configs() -> list[tuple[str, str]]:
  """(path as a --gin_file, first comment line) of every shipped config."""
  root = _configs_root()
  configs = []
  for directory, _, names in sorted(os.walk(
      os.path.join(root, _CONFIGS_PACKAGE))):
    for name in sorted(names):
      if name.endswith('.gin'):
        path = os.path.join(directory, name)
        with open(path) as f:
          first = f.readline().strip()
        configs.append((os.path.relpath(path, root),
                        first.lstrip('# ') if first.startswith('#') else ''))
  return configs


def _isolate() -> None:
  """Moves the process off the network, or refuses saying why."""
  problem = network_isolation.probe()
  if problem is not None:
    sys.exit(
        f'Error: --network=isolated cannot work here: {problem}. Leave it '
        'out: the training then keeps the host\'s network, and a Reverb '
        'server it starts still listens on loopback only where the kernel '
        'allows.')
  network_isolation.isolate_network()


def _needs_other_hosts(gin) -> Optional[str]:
  """Why the parsed configuration needs other hosts; None if it does not."""
  def configured(parameter: str):
    try:
      return gin.query_parameter(parameter)
    except ValueError:
      return None
  server = configured('train_eval.replay_server')
  if server is not None:  # even on localhost: the host's loopback, not ours
    return f'it reads the demonstration server at {server}'
  strategy = configured('train_eval.strategy')
  if strategy in _NEEDS_OTHER_PROCESSES:
    return f'its {strategy} strategy reaches other processes'
  return None


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'Unexpected arguments: {" ".join(argv[1:])}.')
  if FLAGS.list_configs:
    for path, description in shipped_configs():
      print(f'{path:55s} {description}')
    return
  if FLAGS.network == 'isolated':
    _isolate()
  console.quiet_start()
  if not FLAGS['verbosity'].present:  # libraries' INFO lines: --verbosity=0
    logging.set_verbosity(logging.WARNING)
    console.quiet_library_warnings()
  # TensorFlow starts threads, so it loads only once the network is chosen.
  # pylint: disable=g-import-not-at-top
  import gin
  import environments
  from ibc_agents.train import checkpoints
  from ibc_agents.train import evaluation
  from ibc_agents.train import train_eval as train_eval_lib

  if FLAGS.list_tasks:
    for task in environments.known_tasks():
      print(task)
    return
  bindings = list(FLAGS.gin_bindings)
  if FLAGS.dataset:
    bindings.append(f'train_eval.dataset = {FLAGS.dataset!r}')
  if FLAGS.replay_server:
    bindings.append(f'train_eval.replay_server = {FLAGS.replay_server!r}')
  if FLAGS.strategy:
    bindings.append(f'train_eval.strategy = {FLAGS.strategy!r}')
  # Shipped configs (`gin_configs/...`, and their includes) from anywhere.
  gin.add_config_file_search_path(_configs_root())
  gin.parse_config_files_and_bindings(FLAGS.gin_file, bindings)
  if FLAGS.list_parameters:
    from ibc_agents.train import config_help
    for parameter in config_help.parameters():
      print(parameter.line())
    return
  if FLAGS.network == 'isolated':
    needs = _needs_other_hosts(gin)
    if needs:
      sys.exit(f'Error: --network=isolated leaves this training loopback '
               f'only, but {needs}. Leave --network=isolated out for this '
               'configuration.')
    print('Network: loopback only (--network=isolated).', flush=True)
  root_dir = FLAGS.root_dir or os.path.join(
      'runs', os.path.splitext(os.path.basename(FLAGS.gin_file[-1]))[0]
      if FLAGS.gin_file else 'default')
  try:
    gin.query_parameter('train_eval.dataset')
  except ValueError:
    try:
      gin.query_parameter('train_eval.replay_server')
    except ValueError:
      raise app.UsageError(
          'No demonstrations: pass --dataset=DIR_OR_GLOB (collect some with '
          '`python -m data_tools.collect --task=... --output_dir=DIR`) or '
          '--replay_server=HOST:PORT.') from None
  try:
    results = train_eval_lib.train_eval(root_dir=root_dir)
  except checkpoints.TrainingDiverged as error:
    sys.exit(f'{error}')
  if results:
    if 'best' in results:
      best = results['best']
      best_dir = os.path.join(root_dir, train_eval_lib.BEST_POLICY_DIR)
      print(f'best validated policy: step {best["step"]} '
            f'validation_success_rate={best["validation_success_rate"]:.3f} '
            f'success_rate={best["success_rate"]:.3f} policy_dir={best_dir}',
            flush=True)
    settings = train_eval_lib.TrainEvalSettings
    seed = gin.get_bindings(settings).get('seed', settings.seed)
    print(f'{evaluation.format_result(results)} policy='
          f'{os.path.join(root_dir, train_eval_lib.POLICY_DIR)} '
          f'(last, step {results["train_steps"]}) seed={seed} '
          f'run_dir={root_dir}', flush=True)
  else:  # a worker that is not the chief: the chief evaluates and writes
    print(f'Trained in step with the chief of run_dir={root_dir}.', flush=True)


if __name__ == '__main__':
  app.run(main)
