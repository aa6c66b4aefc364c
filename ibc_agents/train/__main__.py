"""Command line: train and evaluate an agent configured by gin files.

    python -m ibc_agents.train --gin_file=gin_configs/particle/ibc_dfo.gin \
        --dataset=data/particle [--root_dir=runs/particle] [--gin_bindings=...]
        [--network=host]

The run is moved into its own network namespace, where only loopback exists,
so that its Reverb server cannot be reached from other hosts; where the
kernel does not allow it, or with `--network=host`, it trains on the host's
network (with a warning in the first case).
"""
import sys

from ibc_agents.train import network_isolation

# Before TensorFlow is imported: only a single-threaded process can move.
if __name__ == '__main__':
  _NOT_ISOLATED = network_isolation.isolate_unless_host_network(sys.argv[1:])

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
    'network', 'isolated', ['isolated', 'host'],
    'isolated: a network namespace with loopback only, off every other host '
    '(where the kernel allows it); host: the host\'s network.')
FLAGS = flags.FLAGS


def _dataset_is_configured() -> bool:
  try:
    gin.query_parameter('train_eval.dataset')
  except ValueError:
    return False
  return True


def main(argv):
  del argv
  if network_isolation.only_loopback():
    print('Network: loopback only (the Reverb server is off the network).',
          flush=True)
  elif FLAGS.network == 'isolated':
    logging.warning('Training on the host network: %s.', _NOT_ISOLATED)
  bindings = list(FLAGS.gin_bindings)
  if FLAGS.dataset:
    bindings.append(f'train_eval.dataset = {FLAGS.dataset!r}')
  # A path that is not a file is read from the installed packages, so
  # `gin_configs/particle/ibc_dfo.gin` (and its includes) work from anywhere.
  gin.parse_config_files_and_bindings(FLAGS.gin_file, bindings)
  root_dir = FLAGS.root_dir or os.path.join(
      'runs', os.path.splitext(os.path.basename(FLAGS.gin_file[-1]))[0]
      if FLAGS.gin_file else 'default')
  if not _dataset_is_configured():
    raise app.UsageError(
        'No demonstrations: pass --dataset=DIR_OR_GLOB (collect some with '
        '`python -m data_tools.collect --task=... --output_dir=DIR`).')
  results = train_eval_lib.train_eval(root_dir=root_dir)
  print(f'{evaluation.format_result(results)} run_dir={root_dir}', flush=True)


if __name__ == '__main__':
  app.run(main)
