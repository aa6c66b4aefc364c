"""`bench.particle_outcomes` sorts a real policy's episodes by how they end."""
from absl import app
import gin
import numpy as np
import pytest

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


def test_aims_at_other_goal_tells_the_goal_not_headed_for():
  first, second = np.array([0.1, 0.1]), np.array([0.9, 0.9])
  assert not particle_outcomes.aims_at_other_goal(
      np.array([0.2, 0.1]), first, first, second)
  assert particle_outcomes.aims_at_other_goal(
      np.array([0.8, 0.9]), first, first, second)
  assert particle_outcomes.aims_at_other_goal(
      np.array([0.2, 0.1]), second, first, second)


def test_other_goal_share_reads_the_best_validated_policy(
    train_easy_particle, tmp_path):
  root_dir = str(tmp_path / 'run')
  train_easy_particle(
      'gin_configs/particle/mse.gin', root_dir,
      'train_eval.num_iterations = 20', 'train_eval.eval_interval = 10',
      'train_eval.eval_episodes = 2', 'train_eval.validation_episodes = 2')
  share = particle_outcomes.other_goal_share(
      root_dir, num_episodes=2, steps_per_episode=5, policy='best')
  assert share in {step / 10 for step in range(11)}, share


def test_best_policy_is_refused_for_a_run_without_validation(tiny_run):
  with pytest.raises(app.UsageError, match='validation'):
    particle_outcomes.other_goal_share(tiny_run, num_episodes=1,
                                       steps_per_episode=1, policy='best')


def test_an_episode_that_reached_both_goals_and_left_the_second_is_told_apart():
  both, first, second, neither = (np.array(reached) for reached in (
      [True, True], [True, False], [False, True], [False, False]))
  assert particle_outcomes.outcome(both, True) == 'success'
  assert particle_outcomes.outcome(both, False) == 'left the second goal'
  assert particle_outcomes.outcome(first, False) == 'first goal only'
  assert particle_outcomes.outcome(second, False) == 'first goal never'
  assert particle_outcomes.outcome(neither, False) == 'first goal never'
