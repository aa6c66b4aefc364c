"""`bench.particle_outcomes` sorts a real policy's episodes by how they end."""
import gin

from bench import particle_outcomes
from data_tools import collect
from ibc_agents.train import train_eval


def test_outcomes_count_every_episode_once_and_measure_the_first_action(
    tmp_path):
  data_dir, root_dir = str(tmp_path / 'data'), str(tmp_path / 'run')
  collect.collect('PARTICLE', num_episodes=100, output_dir=data_dir,
                  num_workers=2, seed=0)
  gin.clear_config()
  gin.parse_config_files_and_bindings(
      ['gin_configs/particle/mse.gin'],
      ['train_eval.num_iterations = 300', 'train_eval.eval_interval = 300',
       'train_eval.eval_episodes = 2'])
  try:
    train_eval.train_eval(root_dir=root_dir, dataset=data_dir)
  finally:
    gin.clear_config()
  result = particle_outcomes.outcomes(root_dir, num_episodes=6)
  assert sum(result[name] for name in particle_outcomes.OUTCOMES) == 6
  assert 0.0 <= result['first_action_median'] < 2.0
