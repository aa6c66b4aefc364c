"""Fixtures of the benchmark tests."""
import pytest


@pytest.fixture(scope='module')
def tiny_run(train_easy_particle, tmp_path_factory):
  """IBC-DFO trained for 20 steps: a real run to read, not a good policy."""
  root_dir = str(tmp_path_factory.mktemp('run'))
  train_easy_particle(
      'gin_configs/particle/ibc_dfo.gin', root_dir,
      'train_eval.num_iterations = 20', 'train_eval.eval_interval = 20',
      'train_eval.eval_episodes = 2', 'train_eval.batch_size = 32',
      'train_eval.eval_plot_fn = None')
  return root_dir
