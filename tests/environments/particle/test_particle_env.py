"""Tests for the N-D particle environment."""
import gin
import numpy as np
import pytest
from tf_agents.environments import utils as env_utils
from tf_agents.environments import wrappers
from tf_agents.trajectories import time_step as ts

from environments.particle import oracle
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


def test_start_and_goals_are_uniform_in_the_unit_square():
  env = particle_env.ParticleEnv(seed=1)
  points = []
  for _ in range(400):
    observation = env.reset().observation
    np.testing.assert_array_equal(observation['vel_agent'], 0.0)
    points.append([observation[k] for k in
                   ('pos_agent', 'pos_first_goal', 'pos_second_goal')])
  points = np.asarray(points)  # [episodes, 3, 2]
  assert points.min() >= 0.0 and points.max() <= 1.0
  # Uniform on [0, 1]: mean 1/2, variance 1/12; no separation is enforced.
  np.testing.assert_allclose(points.mean(axis=0), 0.5, atol=0.06)
  np.testing.assert_allclose(points.var(axis=0), 1.0 / 12.0, atol=0.015)
  gaps = np.linalg.norm(points[:, 0] - points[:, 1], axis=-1)
  assert gaps.min() < 0.05


def test_min_separation_variant_keeps_start_and_goals_apart():
  env = particle_env.ParticleEnv(min_separation=0.2, seed=1)
  for _ in range(200):
    observation = env.reset().observation
    points = [observation[k] for k in
              ('pos_agent', 'pos_first_goal', 'pos_second_goal')]
    for i in range(3):
      for j in range(i):
        assert np.linalg.norm(points[i] - points[j]) >= 0.2 - 1e-6


def test_success_when_both_goals_reached_and_still_at_the_second():
  env = particle_env.ParticleEnv(seed=2)
  goals = env.reset().observation
  steps = _hold(env, goals['pos_first_goal'], 25)
  assert min(_distance(s, 'pos_first_goal') for s in steps) < 0.05
  steps += _hold(env, goals['pos_second_goal'], 25)
  assert len(steps) == 50
  assert all(s.step_type == ts.StepType.MID and s.reward == 0.0
             and s.discount == 1.0 for s in steps[:-1])
  assert steps[-1].is_last()
  assert _distance(steps[-1], 'pos_second_goal') < 0.05
  assert steps[-1].reward == 1.0 and steps[-1].discount == 0.0
  assert env.get_info()['success']
  # The step after the end starts a new episode.
  assert env.step(np.zeros(2, np.float32)).is_first()
  assert not env.get_info()['success']


def test_leaving_the_second_goal_before_the_end_is_no_success():
  env = particle_env.ParticleEnv(seed=2)
  goals = env.reset().observation
  _hold(env, goals['pos_first_goal'], 20)
  _hold(env, goals['pos_second_goal'], 20)
  assert env.get_info()['success']
  steps = _hold(env, goals['pos_first_goal'], 10)
  assert steps[-1].is_last()
  # The original's reward counts the goals reached; its success also needs
  # the particle at the second goal at the end.
  assert steps[-1].reward == 1.0
  assert not env.get_info()['success']


def test_no_success_when_only_the_second_goal_is_reached():
  env = particle_env.ParticleEnv(seed=3)
  goals = env.reset().observation
  steps = _hold(env, goals['pos_second_goal'], 50)
  assert _distance(steps[-1], 'pos_second_goal') < 0.01
  assert steps[-1].is_last() and steps[-1].reward == 0.0
  assert not env.get_info()['success']


def test_end_on_success_variant_ends_on_the_completing_step():
  env = particle_env.ParticleEnv(end_on_success=True, seed=2)
  goals = env.reset().observation
  assert not _hold(env, goals['pos_first_goal'], 20)[-1].is_last()
  steps = _hold(env, goals['pos_second_goal'], 29)
  assert steps[-1].is_last() and len(steps) < 29
  assert steps[-1].reward == 1.0 and steps[-1].discount == 0.0
  assert all(s.reward == 0.0 for s in steps[:-1])
  assert env.get_info()['success']


def test_episode_runs_max_steps_and_ends_with_discount_zero():
  env = particle_env.ParticleEnv(max_steps=10, seed=4)
  start = env.reset().observation['pos_agent']
  steps = _hold(env, start, 10)
  assert all(s.step_type == ts.StepType.MID for s in steps[:-1])
  assert steps[-1].is_last() and len(steps) == 10
  assert steps[-1].discount == 0.0
  assert steps[-1].reward == 0.0
  assert not env.get_info()['success']
  np.testing.assert_allclose(steps[-1].observation['pos_agent'], start,
                             atol=1e-6)


def _original_step(pos, vel, action, dt=0.005, k_p=10.0, k_v=5.0, repeat=10):
  """One control step as the original `ParticleEnv.step` documents it."""
  for _ in range(repeat):
    u_agent = k_p * (action - pos) - k_v * vel
    pos, vel = pos + vel * dt, vel + u_agent * dt
  return pos, vel


def test_oracle_demonstrations_follow_the_original_update():
  env = particle_env.ParticleEnv(n_dim=3, seed=6)
  policy = oracle.ParticleOracle(env)
  time_step = env.reset()
  for _ in range(50):
    action = policy.action(time_step).action
    before = time_step.observation
    time_step = env.step(action)
    pos, vel = _original_step(before['pos_agent'].astype(np.float64),
                              before['vel_agent'].astype(np.float64),
                              action.astype(np.float64))
    np.testing.assert_allclose(time_step.observation['pos_agent'], pos,
                               atol=1e-6)
    np.testing.assert_allclose(time_step.observation['vel_agent'], vel,
                               atol=1e-5)
  assert time_step.is_last() and env.get_info()['success']


def test_pd_controller_moves_about_two_centimetres_per_step_and_settles():
  env = particle_env.ParticleEnv(seed=6, max_steps=100)
  env.reset()
  _hold(env, [0.1, 0.1], 30)
  steps = _hold(env, [0.9, 0.9], 60)
  positions = np.stack([s.observation['pos_agent'] for s in steps])
  errors = np.linalg.norm(positions - 0.9, axis=1)
  # 20 Hz control: across the diagonal (1.13) takes about 20 steps.
  assert errors[9] > 0.3 and errors[24] < 0.05
  assert errors[-1] < 1e-3
  assert np.linalg.norm(steps[-1].observation['vel_agent']) < 1e-2


def test_composed_substeps_match_substep_loop():
  kp, kv, dt, substeps = 10.0, 5.0, 0.005, 10
  dynamics, target_gain = particle_env._composed_substeps(kp, kv, dt, substeps)
  rng = np.random.default_rng(0)
  pos, vel, target = rng.uniform(size=(3, 5))
  expected = _original_step(pos, vel, target, dt, kp, kv, substeps)
  state = dynamics @ np.stack([pos, vel]) + target_gain * target
  np.testing.assert_allclose(state, expected, atol=1e-12)


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
