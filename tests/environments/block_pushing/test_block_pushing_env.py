"""Tests for the block-pushing environments (a real pybullet simulation)."""
import gin
import numpy as np
import pytest
from tf_agents.environments import utils as env_utils
from tf_agents.trajectories import time_step as ts

import environments
from environments.block_pushing import block_pushing_env
from environments.block_pushing import rendering

TASKS = ['PUSH', 'REACH', 'PUSH_DISCONTINUOUS', 'PUSH_MULTIMODAL']
BOUND = block_pushing_env.ACTION_BOUND


@pytest.fixture(scope='module')
def envs():
  """One environment per task, shared by the tests (building one costs)."""
  made = {task: environments.make(task, seed=0) for task in TASKS}
  yield made
  for env in made.values():
    env.close()


def _place(env, block_index, xy):
  """Puts a block at `xy` by hand, upright, at rest."""
  client = env.pybullet_client
  height = block_pushing_env.BLOCK_SIZE / 2
  client.resetBasePositionAndOrientation(
      env.block_ids[block_index], [xy[0], xy[1], height], [0.0, 0.0, 0.0, 1.0])


def _hold_still(env):
  return env.step(np.zeros(2, np.float32))


def _assert_same(a, b):
  assert a.keys() == b.keys()
  for key in a:
    np.testing.assert_array_equal(a[key], b[key], err_msg=key)


@pytest.mark.parametrize('task', TASKS)
def test_same_seed_gives_same_start_and_other_seeds_differ(task, envs):
  env = envs[task]
  env.seed(3)
  first = [env.reset().observation for _ in range(2)]
  env.step(np.full(2, BOUND, np.float32))  # leave the arm somewhere else
  env.seed(3)
  again = [env.reset().observation for _ in range(2)]
  fresh = environments.make(task, seed=3)
  try:
    fresh_first = fresh.reset().observation
  finally:
    fresh.close()
  env.seed(4)
  other = env.reset().observation
  for a, b in zip(first, again):
    _assert_same(a, b)
  _assert_same(first[0], fresh_first)
  block = 'block_translation'
  assert not np.allclose(first[0][block], other[block])
  assert not np.allclose(first[0][block], first[1][block])


@pytest.mark.parametrize('task', TASKS)
def test_observations_and_random_actions_follow_the_specs(task):
  env = environments.make(task, seed=1, max_steps=10)
  try:
    env_utils.validate_py_environment(env, episodes=2)
    spec = env.action_spec()
    assert spec.shape == (2,) and spec.dtype == np.float32
    np.testing.assert_array_equal(spec.minimum, np.float32(-BOUND))
    np.testing.assert_array_equal(spec.maximum, np.float32(BOUND))
    observation = env.reset().observation
    for name, value in observation.items():
      assert value.dtype == np.float32
      assert value.shape == ((1,) if name.endswith('orientation') else (2,))
  finally:
    env.close()


def test_observation_names_each_block_and_target(envs):
  def names(task):
    return set(envs[task].observation_spec())

  # The original's keys (`_compute_state` of each task).
  push = {'block_translation', 'block_orientation', 'effector_translation',
          'effector_target_translation', 'target_translation',
          'target_orientation'}
  second_target = {'target2_translation', 'target2_orientation'}
  assert names('PUSH') == names('REACH') == push
  assert names('PUSH_DISCONTINUOUS') == push | second_target
  assert names('PUSH_MULTIMODAL') == push | second_target | {
      'block2_translation', 'block2_orientation'}


@pytest.mark.parametrize('task', TASKS)
def test_huge_action_moves_effector_target_by_at_most_the_bound(task, envs):
  env = envs[task]
  start = env.reset().observation['effector_target_translation']
  moved = env.step(np.array([5.0, -5.0], np.float32)).observation
  np.testing.assert_allclose(
      moved['effector_target_translation'] - start, [BOUND, -BOUND],
      atol=1e-6)


def test_effector_starts_at_the_original_pose_and_target_stays_in_workspace(
    envs):
  env = envs['PUSH']
  observation = env.reset().observation
  np.testing.assert_allclose(observation['effector_target_translation'],
                             [0.3, -0.4], atol=1e-6)
  # Where the original reports its effector at the start (the first
  # observation of data/original_push_episodes.npz): link6's centre of mass,
  # 1.4 mm off the commanded point.
  np.testing.assert_allclose(observation['effector_translation'],
                             [0.30025, -0.39859], atol=2e-4)
  for _ in range(12):
    observation = env.step(np.array([-BOUND, BOUND], np.float32)).observation
  target = observation['effector_target_translation']
  np.testing.assert_allclose(target, [0.15, 0.5], atol=1e-6)
  np.testing.assert_array_equal(block_pushing_env.WORKSPACE_LOW, [0.15, -0.5])
  np.testing.assert_array_equal(block_pushing_env.WORKSPACE_HIGH, [0.7, 0.5])
  # Where the blocks and targets lie, the effector follows to a millimetre.
  for goal in ([0.3, 0.4], [0.5, -0.35]):
    for _ in range(30):
      gap = np.asarray(goal) - observation['effector_target_translation']
      observation = env.step(np.clip(gap, -0.03, 0.03).astype(
          np.float32)).observation
    observation = _hold_still(env).observation
    np.testing.assert_allclose(observation['effector_translation'], goal,
                               atol=2e-3)


def test_push_succeeds_when_block_is_placed_on_target(envs):
  env = envs['PUSH']
  observation = env.reset().observation
  assert not env.get_info()['success']
  target = observation['target_translation']
  assert env.success_tolerance == 0.01  # the original's goal_dist_tolerance
  _place(env, 0, target + [0.007, 0.0])
  time_step = _hold_still(env)
  assert time_step.is_last()
  assert time_step.reward == 1.0 and time_step.discount == 0.0
  assert env.get_info()['success']
  np.testing.assert_allclose(time_step.observation['block_translation'],
                             target + [0.007, 0.0], atol=1e-3)
  assert env.step(np.zeros(2, np.float32)).is_first()
  assert not env.get_info()['success']


def test_push_fails_when_block_is_just_outside_tolerance(envs):
  env = envs['PUSH']
  target = env.reset().observation['target_translation']
  _place(env, 0, target + [0.0, env.success_tolerance + 0.003])
  time_step = _hold_still(env)
  assert time_step.step_type == ts.StepType.MID and time_step.reward == 0.0
  assert not env.get_info()['success']


def test_a_looser_tolerance_set_mid_episode_scores_the_next_step(envs):
  env = envs['PUSH']
  target = env.reset().observation['target_translation']
  _place(env, 0, target + [0.0, 0.015])
  assert _hold_still(env).step_type == ts.StepType.MID
  env.success_tolerance = 0.02
  try:
    time_step = _hold_still(env)
    assert time_step.is_last() and env.get_info()['success']
    with pytest.raises(ValueError, match='success_tolerance must be > 0'):
      env.success_tolerance = 0.0
  finally:
    env.success_tolerance = 0.01
    env.reset()


def test_reach_succeeds_at_the_point_behind_the_block(envs):
  env = envs['REACH']
  observation = env.reset().observation
  block = observation['block_translation']
  line = observation['target_translation'] - block
  goal = block - 0.05 * line / np.linalg.norm(line)
  for _ in range(20):
    gap = goal - observation['effector_target_translation']
    time_step = env.step(np.clip(gap, -0.03, 0.03).astype(np.float32))
    observation = time_step.observation
    if time_step.is_last():
      break
  assert time_step.is_last() and time_step.reward == 1.0
  assert np.linalg.norm(observation['effector_translation'] - goal) < 0.01
  assert env.get_info()['success']


def _layout_statistics(env, names, episodes=150):
  values = {name: [] for name in names}
  for _ in range(episodes):
    observation = env.reset().observation
    for name in names:
      values[name].append(observation[name])
  return {name: np.asarray(value) for name, value in values.items()}


def test_push_layout_follows_the_original(envs):
  layout = _layout_statistics(envs['PUSH'], (
      'block_translation', 'block_orientation', 'target_translation',
      'target_orientation'))
  block, target = layout['block_translation'], layout['target_translation']
  # Original `reset`: x 0.4 +- 0.1; block y -0.2 +- 0.15, target y 0.2 +- 0.15.
  for points, center_y in ((block, -0.2), (target, 0.2)):
    assert np.all(np.abs(points[:, 0] - 0.4) <= 0.1 + 2e-3)
    assert np.all(np.abs(points[:, 1] - center_y) <= 0.15 + 2e-3)
    assert np.ptp(points[:, 0]) > 0.15 and np.ptp(points[:, 1]) > 0.24
  # Block yaw uniform on [1, pi) (the original's `uniform(math.pi)`), target
  # yaw pi +- pi/6, both reported in (-pi, pi].
  block_yaw = layout['block_orientation'][:, 0]
  assert np.all((block_yaw > 1.0 - 0.02) & (block_yaw <= np.pi))
  target_yaw = np.abs(layout['target_orientation'][:, 0])
  assert np.all(target_yaw >= np.pi - np.pi / 6 - 1e-6)


def test_discontinuous_layout_and_success_follow_the_original(envs):
  env = envs['PUSH_DISCONTINUOUS']
  assert env.success_tolerance == 0.04 and env.max_steps == 200
  layout = _layout_statistics(env, ('target_translation',
                                    'target2_translation'), episodes=60)
  first, second = layout['target_translation'], layout['target2_translation']
  np.testing.assert_allclose(first[:, 1], 0.0, atol=1e-6)
  np.testing.assert_allclose(second[:, 1], 0.4, atol=1e-6)
  assert np.all(np.abs(first[:, 0] - second[:, 0]) > 0.15)
  # Target, then target2: the episode ends with success.
  observation = env.reset().observation
  _place(env, 0, observation['target_translation'] + [0.02, 0.0])
  assert not _hold_still(env).is_last()
  _place(env, 0, observation['target2_translation'])
  time_step = _hold_still(env)
  assert time_step.is_last() and time_step.reward == 1.0
  assert env.get_info()['success']
  # Target2, then target: both reached, so it ends, but not in success.
  observation = env.reset().observation
  _place(env, 0, observation['target2_translation'])
  assert not _hold_still(env).is_last()
  assert not env.get_info()['success']
  _place(env, 0, observation['target_translation'])
  assert _hold_still(env).is_last()
  assert not env.get_info()['success']


def test_multimodal_layout_follows_the_original(envs):
  env = envs['PUSH_MULTIMODAL']
  assert env.success_tolerance == 0.04 and env.max_steps == 200
  layout = _layout_statistics(env, (
      'block_translation', 'block2_translation', 'target_translation',
      'target2_translation'), episodes=60)
  for first, second, gap, center_y in (
      ('block_translation', 'block2_translation', 0.1, -0.2),
      ('target_translation', 'target2_translation', 0.12, 0.2)):
    assert np.all(np.abs(layout[first][:, 0] - layout[second][:, 0]) > gap)
    for name in (first, second):
      assert np.all(np.abs(layout[name][:, 1] - center_y) <= 0.15 + 2e-3)


@pytest.mark.parametrize('assignment', [(0, 1), (1, 0)])
def test_multimodal_succeeds_with_either_assignment_only_when_both_placed(
    assignment, envs):
  env = envs['PUSH_MULTIMODAL']
  observation = env.reset().observation
  names = ('target_translation', 'target2_translation')
  _place(env, 0, observation[names[assignment[0]]])
  assert not _hold_still(env).is_last()
  _place(env, 1, observation[names[assignment[1]]])
  time_step = _hold_still(env)
  assert time_step.is_last() and time_step.reward == 1.0
  assert env.get_info()['success']


def test_multimodal_fails_with_both_blocks_on_one_target(envs):
  env = envs['PUSH_MULTIMODAL']
  target = env.reset().observation['target_translation']
  _place(env, 0, target + [0.0, 0.022])
  _place(env, 1, target - [0.0, 0.022])
  assert not _hold_still(env).is_last()
  assert not env.get_info()['success']


def test_multimodal_reports_p1_once_one_block_is_in_and_p2_with_both(envs):
  env = envs['PUSH_MULTIMODAL']
  observation = env.reset().observation
  _hold_still(env)
  assert not env.get_info()['p1'] and not env.get_info()['p2']
  _place(env, 0, observation['target_translation'])
  _hold_still(env)
  _place(env, 0, observation['block_translation'])  # out again: p1 stays
  _hold_still(env)
  assert env.get_info()['p1'] and not env.get_info()['p2']
  _place(env, 0, observation['target_translation'])
  _place(env, 1, observation['target2_translation'])
  assert _hold_still(env).is_last()
  info = env.get_info()
  assert info['p1'] and info['p2'] and info['success']
  env.reset()
  assert not env.get_info()['p1']


def test_truncates_after_max_steps_with_discount_one():
  env = environments.make('PUSH', seed=2, max_steps=5)
  try:
    env.reset()
    steps = [_hold_still(env) for _ in range(5)]
  finally:
    env.close()
  assert all(s.step_type == ts.StepType.MID for s in steps[:-1])
  assert steps[-1].is_last()
  assert steps[-1].reward == 0.0 and steps[-1].discount == 1.0


def test_gin_binding_sets_max_steps():
  gin.parse_config(['import environments.block_pushing.block_pushing_env',
                    'PushEnv.max_steps = 3'])
  try:
    env = environments.make('PUSH', seed=0)
  finally:
    gin.clear_config()
  try:
    assert env.max_steps == 3
  finally:
    env.close()


def test_render_uses_the_configured_size_and_camera():
  env = environments.make('PUSH', seed=5, render_width=64, render_height=48)
  try:
    env.reset()
    image = env.render()
    assert image.shape == (48, 64, 3) and image.dtype == np.uint8
    assert image.std() > 0  # not a blank frame
    top_down = rendering.render_rgb(
        env.pybullet_client,
        rendering.Camera(eye=(0.4, 0.0, 1.0), up=(1.0, 0.0, 0.0)), 64, 48)
    assert not np.array_equal(image, top_down)
  finally:
    env.close()


def test_wrong_action_shape_raises(envs):
  env = envs['PUSH']
  env.reset()
  with pytest.raises(ValueError, match='shape'):
    env.step(np.zeros(3, np.float32))
