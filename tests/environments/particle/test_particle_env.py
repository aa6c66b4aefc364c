"""Tests for the N-D particle environment."""
import gin
import numpy as np
import pytest
from tf_agents.environments import utils as env_utils
from tf_agents.environments import wrappers
from tf_agents.trajectories import time_step as ts

from environments.particle import particle_env


def _hold(env, target, num_steps):
  """Steps `env` towards a fixed target until LAST; returns the time steps."""
  steps = []
  for _ in range(num_steps):
    steps.append(env.step(np.asarray(target, np.float32)))
    if steps[-1].is_last():
      break
  return steps


def _distance(time_step, goal_key):
  observation = time_step.observation
  return np.linalg.norm(observation['pos_agent'] - observation[goal_key])


def test_same_seed_gives_same_episode_sequence():
  def first_observations(env):
    return [env.reset().observation for _ in range(3)]

  first = first_observations(particle_env.ParticleEnv(seed=7))
  again = first_observations(particle_env.ParticleEnv(seed=7))
  other = first_observations(particle_env.ParticleEnv(seed=8))
  reseeded_env = particle_env.ParticleEnv(seed=0)
  reseeded_env.reset()
  reseeded_env.seed(7)
  reseeded = first_observations(reseeded_env)
  for a, b, c, d in zip(first, again, other, reseeded):
    for key in a:
      np.testing.assert_array_equal(a[key], b[key])
      np.testing.assert_array_equal(a[key], d[key])
    assert not np.allclose(a['pos_agent'], c['pos_agent'])
  # Consecutive episodes differ.
  assert not np.allclose(first[0]['pos_first_goal'],
                         first[1]['pos_first_goal'])


@pytest.mark.parametrize('n_dim', [1, 2, 8])
def test_random_actions_respect_specs(n_dim):
  env = particle_env.ParticleEnv(n_dim=n_dim, max_steps=20, seed=0)
  env_utils.validate_py_environment(env, episodes=3)
  assert env.action_spec().shape == (n_dim,)
  assert env.action_spec().dtype == np.float32
  np.testing.assert_array_equal(env.action_spec().minimum, 0.0)
  np.testing.assert_array_equal(env.action_spec().maximum, 1.0)
  assert set(env.observation_spec()) == {
      'pos_agent', 'vel_agent', 'pos_first_goal', 'pos_second_goal'}


def test_history_wrapper_stacks_two_observations():
  env = wrappers.HistoryWrapper(
      particle_env.ParticleEnv(seed=0), history_length=2,
      tile_first_step_obs=True)
  env_utils.validate_py_environment(env, episodes=2)
  first = env.reset()
  assert first.observation['pos_agent'].shape == (2, 2)
  np.testing.assert_array_equal(first.observation['pos_agent'][0],
                                first.observation['pos_agent'][1])
  second = env.step(np.array([0.5, 0.5], np.float32))
  np.testing.assert_array_equal(second.observation['pos_agent'][0],
                                first.observation['pos_agent'][1])
  assert not np.allclose(second.observation['pos_agent'][1],
                         first.observation['pos_agent'][1])


def test_start_and_goals_are_kept_apart_inside_unit_square():
  env = particle_env.ParticleEnv(seed=1)
  for _ in range(200):
    observation = env.reset().observation
    points = [observation[k] for k in
              ('pos_agent', 'pos_first_goal', 'pos_second_goal')]
    for i in range(3):
      assert np.all((points[i] >= 0.0) & (points[i] <= 1.0))
      for j in range(i):
        assert np.linalg.norm(points[i] - points[j]) >= 0.2 - 1e-6
    np.testing.assert_array_equal(observation['vel_agent'], 0.0)


def test_success_when_first_then_second_goal_reached():
  env = particle_env.ParticleEnv(seed=2)
  time_step = env.reset()
  goals = time_step.observation
  steps = _hold(env, goals['pos_first_goal'], 20)
  assert min(_distance(s, 'pos_first_goal') for s in steps) < 0.05
  assert all(s.step_type == ts.StepType.MID and s.reward == 0.0
             for s in steps)
  assert not env.get_info()['success']
  steps = _hold(env, goals['pos_second_goal'], 20)
  assert steps[-1].is_last()
  assert _distance(steps[-1], 'pos_second_goal') < 0.05
  assert steps[-1].reward == 1.0
  assert steps[-1].discount == 0.0
  assert env.get_info()['success']
  assert all(s.reward == 0.0 and not s.is_last() for s in steps[:-1])
  # The step after the end starts a new episode.
  assert env.step(np.zeros(2, np.float32)).is_first()
  assert not env.get_info()['success']


def test_no_success_when_second_goal_reached_first():
  env = particle_env.ParticleEnv(max_steps=100, seed=3)
  goals = env.reset().observation
  steps = _hold(env, goals['pos_second_goal'], 20)
  assert _distance(steps[-1], 'pos_second_goal') < 0.01
  assert not any(s.is_last() or s.reward != 0.0 for s in steps)
  assert not env.get_info()['success']
  # Visiting the goals in order afterwards still completes the task.
  assert not _hold(env, goals['pos_first_goal'], 20)[-1].is_last()
  assert _hold(env, goals['pos_second_goal'], 20)[-1].reward == 1.0
  assert env.get_info()['success']


def test_without_end_on_success_the_episode_runs_on_and_success_holds():
  env = particle_env.ParticleEnv(max_steps=60, end_on_success=False, seed=2)
  goals = env.reset().observation
  _hold(env, goals['pos_first_goal'], 20)
  steps = _hold(env, goals['pos_second_goal'], 20)
  assert [s.reward for s in steps].count(1.0) == 1
  assert not any(s.is_last() for s in steps)
  assert env.get_info()['success']
  steps = _hold(env, goals['pos_first_goal'], 20)  # leaves the second goal
  assert steps[-1].is_last() and steps[-1].discount == 1.0
  assert all(s.reward == 0.0 for s in steps)
  assert env.get_info()['success']


def test_truncates_after_max_steps_with_discount_one():
  env = particle_env.ParticleEnv(max_steps=10, seed=4)
  start = env.reset().observation['pos_agent']
  steps = _hold(env, start, 10)
  assert all(s.step_type == ts.StepType.MID for s in steps[:-1])
  assert steps[-1].is_last()
  assert steps[-1].discount == 1.0
  assert steps[-1].reward == 0.0
  assert not env.get_info()['success']
  np.testing.assert_allclose(steps[-1].observation['pos_agent'], start,
                             atol=1e-6)


def test_out_of_bounds_targets_keep_agent_in_unit_square():
  env = particle_env.ParticleEnv(seed=5)
  env.reset()
  steps = _hold(env, [4.0, -3.0], 25)
  for s in steps:
    position = s.observation['pos_agent']
    assert np.all((position >= 0.0) & (position <= 1.0))
  np.testing.assert_allclose(steps[-1].observation['pos_agent'], [1.0, 0.0],
                             atol=1e-3)


def test_pd_controller_settles_on_target():
  env = particle_env.ParticleEnv(seed=6, max_steps=100)
  env.reset()
  _hold(env, [0.1, 0.1], 15)
  steps = _hold(env, [0.9, 0.9], 30)
  positions = np.stack([s.observation['pos_agent'] for s in steps])
  errors = np.linalg.norm(positions - 0.9, axis=1)
  # Across the diagonal (distance 1.13) within the default tolerance in 15
  # steps, then at rest on the target.
  assert errors[14] < 0.05
  assert errors[-1] < 1e-3
  assert np.linalg.norm(steps[-1].observation['vel_agent']) < 1e-3
  assert np.all(np.diff(errors) < 0.0)


def test_composed_substeps_match_substep_loop():
  kp, kv, dt, substeps = 10.0, 6.0, 0.01, 10
  dynamics, target_gain = particle_env._composed_substeps(kp, kv, dt, substeps)
  rng = np.random.default_rng(0)
  pos, vel, target = rng.uniform(size=(3, 5))
  expected_pos, expected_vel = pos.copy(), vel.copy()
  for _ in range(substeps):
    expected_vel += dt * (kp * (target - expected_pos) - kv * expected_vel)
    expected_pos += dt * expected_vel
  state = dynamics @ np.stack([pos, vel]) + target_gain * target
  np.testing.assert_allclose(state, [expected_pos, expected_vel], atol=1e-12)


def test_wrong_action_shape_raises():
  env = particle_env.ParticleEnv(seed=0)
  env.reset()
  with pytest.raises(ValueError, match='shape'):
    env.step(np.zeros(3, np.float32))


def test_gin_binding_sets_dimension():
  gin.parse_config('ParticleEnv.n_dim = 4')
  try:
    env = particle_env.ParticleEnv(seed=0)
  finally:
    gin.clear_config()
  assert env.reset().observation['pos_agent'].shape == (4,)
  assert env.action_spec().shape == (4,)


def test_render_draws_goals_and_agent():
  env = particle_env.ParticleEnv(seed=9)
  observation = env.reset().observation
  image = env.render()
  assert image.shape == (128, 128, 3)
  assert image.dtype == np.uint8

  def pixel(point):
    return image[int((1.0 - point[1]) * 128), int(point[0] * 128)]

  green, blue, black = pixel(observation['pos_first_goal']), pixel(
      observation['pos_second_goal']), pixel(observation['pos_agent'])
  assert green[1] > 100 and green[0] == 0 and green[2] == 0
  assert blue[2] > 100 and blue[0] == 0
  np.testing.assert_array_equal(black, [0, 0, 0])
  assert np.all(image[0, 0] == 255) or np.all(image[-1, -1] == 255)
