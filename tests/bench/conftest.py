"""Fixtures of the benchmark tests."""
import gin
import pytest

from ibc_agents.train import train_eval


@pytest.fixture(scope='module')
def tiny_run(easy_particle, tmp_path_factory):
  """IBC-DFO trained for 20 steps: a real run to read, not a good policy."""
  root_dir = str(tmp_path_factory.mktemp('run'))
  gin.clear_config()
  gin.parse_config_files_and_bindings(
      ['gin_configs/particle/ibc_dfo.gin'],
      [*easy_particle.bindings, 'train_eval.num_iterations = 20',
       'train_eval.eval_interval = 20', 'train_eval.eval_episodes = 2',
       'train_eval.batch_size = 32', 'train_eval.eval_plot_fn = None'])
  train_eval.train_eval(root_dir=root_dir, dataset=easy_particle.directory)
  gin.clear_config()
  return root_dir
