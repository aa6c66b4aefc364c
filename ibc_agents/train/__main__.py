"""Command line: train and evaluate an agent configured by gin files.

    python -m ibc_agents.train --gin_file=gin_configs/particle/ibc_dfo.gin \
        --dataset=data/particle [--root_dir=runs/particle] [--gin_bindings=...]
        [--strategy=default|mirrored|multi_worker|tpu]
        [--replay_server=HOST:PORT] [--network=host]

The run is moved into its own network namespace, where only loopback exists,
so that its Reverb server cannot be reached from other hosts; where the
kernel does not allow it, or with `--network=host`, it trains on the host's
network (with a warning in the first case). A run that reads a standalone
demonstration server, or trains with other processes (`multi_worker`,
`tpu`), needs the host's network and stays on it.
"""
import sys
from typing import Optional, Sequence

from data_tools import network_isolation


def _needs_host_network(argv: Sequence[str]) -> Optional[str]:
  """Why the command line needs the host's network; None if it does not."""
  words = ' '.join(argv).replace('=', ' ').split()
  for flag, value in zip(words, words[1:] + ['']):
    if flag in ('--replay_server', '-replay_server'):
      return f'it reads the demonstration server at {value}'
    if flag in ('--strategy', '-strategy') and value in ('multi_worker',
                                                         'tpu'):
      return f'its {value} strategy reaches other processes'
  return None


# Before TensorFlow is imported: only a single-threaded process can move.
if __name__ == '__main__':
  _HOST_NETWORK_NEEDED = _needs_host_network(sys.argv[1:])
  _NOT_ISOLATED = (None if _HOST_NETWORK_NEEDED else
                   network_isolation.isolate_unless_host_network(sys.argv[1:]))

# pylint: disable=g-import-not-at-top,wrong-import-position
import os

from absl import app
from absl import flags
from absl import logging
import gin

from ibc_agents.train import evaluation
from ibc_agents.train import train_eval as train_eval_lib

flags.DEFINE_multi_string('gin_file', [], 'gin config files (repeatable).')
flags.DEFINE_multi_string('gin_bindings', [], 'gin bindings (repeatable).')
flags.DEFINE_string('root_dir', None,
                    'Run directory (default: runs/<last gin file name>).')
flags.DEFINE_string('dataset', None,
                    'Demonstrations: a dataset directory or a glob of shards '
                    '(overrides the gin config).')
flags.DEFINE_enum(
    'strategy', None, ['default', 'mirrored', 'multi_worker', 'tpu'],
    'tf.distribute strategy (overrides train_eval.strategy): one device, '
    'every local GPU (or logical CPU), the processes TF_CONFIG names, or a '
    'TPU.')
flags.DEFINE_string(
    'replay_server', None,
    'HOST:PORT of a `python -m data_tools.replay_server` to read the '
    'demonstrations from (instead of --dataset).')
flags.DEFINE_enum(
    'network', 'isolated', ['isolated', 'host'],
    'isolated: a network namespace with loopback only, off every other host '
    '(where the kernel allows it); host: the host\'s network.')
FLAGS = flags.FLAGS


def _is_configured(parameter: str) -> bool:
  try:
    gin.query_parameter(parameter)
  except ValueError:
    return False
  return True


def main(argv):
  del argv
  if network_isolation.only_loopback():
    print('Network: loopback only (the Reverb server is off the network).',
          flush=True)
  elif _HOST_NETWORK_NEEDED:
    print(f'Network: host, because {_HOST_NETWORK_NEEDED}.', flush=True)
  elif FLAGS.network == 'isolated':
    logging.warning('Training on the host network: %s.', _NOT_ISOLATED)
  bindings = list(FLAGS.gin_bindings)
  if FLAGS.dataset:
    bindings.append(f'train_eval.dataset = {FLAGS.dataset!r}')
  if FLAGS.replay_server:
    bindings.append(f'train_eval.replay_server = {FLAGS.replay_server!r}')
  if FLAGS.strategy:
    bindings.append(f'train_eval.strategy = {FLAGS.strategy!r}')
  # A path that is not a file is read from the installed packages, so
  # `gin_configs/particle/ibc_dfo.gin` (and its includes) work from anywhere.
  gin.parse_config_files_and_bindings(FLAGS.gin_file, bindings)
  root_dir = FLAGS.root_dir or os.path.join(
      'runs', os.path.splitext(os.path.basename(FLAGS.gin_file[-1]))[0]
      if FLAGS.gin_file else 'default')
  if not (_is_configured('train_eval.dataset') or
          _is_configured('train_eval.replay_server')):
    raise app.UsageError(
        'No demonstrations: pass --dataset=DIR_OR_GLOB (collect some with '
        '`python -m data_tools.collect --task=... --output_dir=DIR`) or '
        '--replay_server=HOST:PORT.')
  results = train_eval_lib.train_eval(root_dir=root_dir)
  if results:
    print(f'{evaluation.format_result(results)} run_dir={root_dir}',
          flush=True)
    if 'best' in results:
      best = results['best']
      best_dir = os.path.join(root_dir, train_eval_lib.BEST_POLICY_DIR)
      print(f'best validated policy: step {best["step"]} '
            f'validation_success_rate={best["validation_success_rate"]:.3f} '
            f'success_rate={best["success_rate"]:.3f} policy_dir={best_dir}',
            flush=True)
  else:  # a worker that is not the chief: the chief evaluates and writes
    print(f'Trained in step with the chief of run_dir={root_dir}.', flush=True)


if __name__ == '__main__':
  app.run(main)
