"""`bench.action_error` measures how far a real policy acts from the oracle."""
import gin
import numpy as np
from absl import app
import pytest

from bench import action_error
from data_tools import collect
from ibc_agents.train import train_eval


def _train_mse(data_dir, root_dir, num_iterations):
  gin.clear_config()
  gin.parse_config_files_and_bindings(
      ['gin_configs/particle/mse.gin'],
      [f'train_eval.num_iterations = {num_iterations}',
       f'train_eval.eval_interval = {num_iterations}',
       'train_eval.eval_episodes = 2'])
  try:
    train_eval.train_eval(root_dir=root_dir, dataset=data_dir)
  finally:
    gin.clear_config()


def test_trained_policy_acts_nearer_the_oracle_than_an_untrained_one(tmp_path):
  data_dir = str(tmp_path / 'data')
  collect.collect('PARTICLE', num_episodes=200, output_dir=data_dir,
                  num_workers=2, seed=0, gin_bindings=[
                      'import environments.particle.particle_env'])
  medians = {}  # train steps: median distance
  for steps in (1, 2000):
    root_dir = str(tmp_path / f'run{steps}')
    _train_mse(data_dir, root_dir, steps)
    errors = action_error.action_errors(root_dir, 'PARTICLE', num_episodes=2,
                                        steps_per_episode=10)
    assert len(errors) == 20 and np.all(errors >= 0), errors
    medians[steps] = action_error.summarize(errors)['median']
  assert medians[2000] < 0.4 * medians[1], medians


def test_rejects_a_non_positive_episode_count():
  with pytest.raises(app.UsageError, match='num_episodes'):
    action_error.main(['--run_dir=/nonexistent', '--num_episodes=0'])
