"""Tests for the scripted particle oracle."""
import numpy as np
import pytest
from tf_agents.drivers import py_driver
from tf_agents.trajectories import time_step as ts

from environments.particle import oracle
from environments.particle import particle_env


def _run_episode(env, policy):
  """Runs one episode; returns (success, number of steps, actions [L, n])."""
  time_step = env.reset()
  actions = []
  while not time_step.is_last():
    actions.append(policy.action(time_step).action)
    time_step = env.step(actions[-1])
  return bool(env.get_info()['success']), len(actions), np.stack(actions)


@pytest.mark.parametrize('n_dim, num_episodes', [(2, 100), (8, 50)])
def test_oracle_solves_seeded_episodes(n_dim, num_episodes):
  env = particle_env.ParticleEnv(n_dim=n_dim, seed=n_dim)
  policy = oracle.ParticleOracle(env)
  results = [_run_episode(env, policy) for _ in range(num_episodes)]
  success_rate = np.mean([success for success, _, _ in results])
  assert success_rate >= 0.98
  assert all(length == 50 for _, length, _ in results)


def test_oracle_targets_first_goal_then_second_goal_once():
  env = particle_env.ParticleEnv(seed=11)
  policy = oracle.ParticleOracle(env)
  goals = env.reset().observation
  env.seed(11)
  success, length, actions = _run_episode(env, policy)
  assert success
  is_first = np.all(actions == goals['pos_first_goal'], axis=1)
  is_second = np.all(actions == goals['pos_second_goal'], axis=1)
  assert np.all(is_first ^ is_second)
  switch = np.argmax(is_second)
  assert 0 < switch < 30  # the original's oracle switches after ~23 steps
  assert np.all(is_first[:switch]) and np.all(is_second[switch:])
  assert actions.dtype == np.float32


def test_oracle_switches_on_the_first_step_within_0_01_of_the_first_goal():
  env = particle_env.ParticleEnv(seed=11)
  policy = oracle.ParticleOracle(env)
  time_step = env.reset()
  first_goal = time_step.observation['pos_first_goal']
  while True:
    distance = np.linalg.norm(time_step.observation['pos_agent'] - first_goal)
    action = policy.action(time_step).action
    if distance < 0.01:
      break
    np.testing.assert_array_equal(action, first_goal)
    time_step = env.step(action)
  np.testing.assert_array_equal(action,
                                time_step.observation['pos_second_goal'])


def test_oracle_forgets_first_goal_on_new_episode():
  env = particle_env.ParticleEnv(seed=12)
  policy = oracle.ParticleOracle(env)
  assert _run_episode(env, policy)[0]
  time_step = env.reset()
  np.testing.assert_array_equal(policy.action(time_step).action,
                                time_step.observation['pos_first_goal'])


def test_oracle_runs_under_py_driver():
  env = particle_env.ParticleEnv(seed=13)
  policy = oracle.ParticleOracle(env)
  successes = []
  trajectories = []
  driver = py_driver.PyDriver(
      env, policy, observers=[trajectories.append],
      info_observers=[lambda info: successes.append(info['success'])],
      max_episodes=5)
  driver.run(env.reset())
  assert sum(t.is_last() for t in trajectories) == 5
  last_step_successes = [success for t, success in zip(trajectories, successes)
                         if t.next_step_type == ts.StepType.LAST]
  assert last_step_successes == [True] * 5
