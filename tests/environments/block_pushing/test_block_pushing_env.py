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
BOUND = block_pushing_env.MAX_DISPLACEMENT


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
  block = 'block1_translation' if task == 'PUSH_MULTIMODAL' else (
      'block_translation')
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

  common = {'effector_translation', 'effector_target_translation'}
  assert names('REACH') == common | {'block_translation', 'block_orientation'}
  assert names('PUSH') == names('REACH') | {'target_translation',
                                            'target_orientation'}
  assert names('PUSH_DISCONTINUOUS') == names('REACH') | {
      'target1_translation', 'target1_orientation', 'target2_translation',
      'target2_orientation'}
  assert names('PUSH_MULTIMODAL') == common | {
      f'{body}{i}_{part}' for body in ('block', 'target') for i in (1, 2)
      for part in ('translation', 'orientation')}


@pytest.mark.parametrize('task', TASKS)
def test_huge_action_moves_effector_target_by_at_most_the_bound(task, envs):
  env = envs[task]
  start = env.reset().observation['effector_target_translation']
  moved = env.step(np.array([5.0, -5.0], np.float32)).observation
  np.testing.assert_allclose(
      moved['effector_target_translation'] - start, [BOUND, -BOUND],
      atol=1e-6)


def test_effector_target_stays_in_workspace_and_effector_follows(envs):
  env = envs['PUSH']
  env.reset()
  for action in ([-BOUND, BOUND], [BOUND, BOUND]):
    for _ in range(25):
      observation = env.step(np.array(action, np.float32)).observation
    target = observation['effector_target_translation']
    assert np.all(target >= block_pushing_env.WORKSPACE_LOW - 1e-6)
    assert np.all(target <= block_pushing_env.WORKSPACE_HIGH + 1e-6)
    observation = _hold_still(env).observation
    np.testing.assert_allclose(observation['effector_translation'], target,
                               atol=0.003)
  np.testing.assert_allclose(
      target, [block_pushing_env.WORKSPACE_HIGH[0],
               block_pushing_env.WORKSPACE_HIGH[1]], atol=1e-6)


def test_push_succeeds_when_block_is_placed_on_target(envs):
  env = envs['PUSH']
  observation = env.reset().observation
  assert not env.get_info()['success']
  target = observation['target_translation']
  _place(env, 0, target + [0.02, 0.0])
  time_step = _hold_still(env)
  assert time_step.is_last()
  assert time_step.reward == 1.0 and time_step.discount == 0.0
  assert env.get_info()['success']
  np.testing.assert_allclose(time_step.observation['block_translation'],
                             target + [0.02, 0.0], atol=1e-3)
  assert env.step(np.zeros(2, np.float32)).is_first()
  assert not env.get_info()['success']


def test_push_fails_when_block_is_just_outside_tolerance(envs):
  env = envs['PUSH']
  target = env.reset().observation['target_translation']
  _place(env, 0, target + [0.0, env.success_tolerance + 0.005])
  time_step = _hold_still(env)
  assert time_step.step_type == ts.StepType.MID and time_step.reward == 0.0
  assert not env.get_info()['success']


def test_reach_succeeds_when_block_is_placed_beside_effector(envs):
  env = envs['REACH']
  effector = env.reset().observation['effector_translation']
  _place(env, 0, effector + [0.04, 0.0])
  time_step = _hold_still(env)
  assert time_step.is_last() and time_step.reward == 1.0
  assert env.get_info()['success']


def test_discontinuous_success_needs_the_target_on_the_block_start_side(envs):
  env = envs['PUSH_DISCONTINUOUS']
  for _ in range(6):
    observation = env.reset().observation
    right = 'target1' if observation['block_translation'][1] > 0 else 'target2'
    wrong = {'target1': 'target2', 'target2': 'target1'}[right]
    _place(env, 0, observation[f'{wrong}_translation'])
    assert not _hold_still(env).is_last()
    assert not env.get_info()['success']
    _place(env, 0, observation[f'{right}_translation'])
    assert _hold_still(env).reward == 1.0
    assert env.get_info()['success']


def test_discontinuous_blocks_start_off_the_centre_line_targets_on_sides(envs):
  env = envs['PUSH_DISCONTINUOUS']
  sides = []
  for _ in range(30):
    observation = env.reset().observation
    block_y = observation['block_translation'][1]
    assert abs(block_y) >= env.SIDE_MARGIN - 1e-6
    assert observation['target1_translation'][1] > 0.0
    assert observation['target2_translation'][1] < 0.0
    sides.append(block_y > 0)
  assert 0 < sum(sides) < len(sides)


@pytest.mark.parametrize('assignment', [(0, 1), (1, 0)])
def test_multimodal_succeeds_with_either_assignment_only_when_both_placed(
    assignment, envs):
  env = envs['PUSH_MULTIMODAL']
  observation = env.reset().observation
  first_target = observation[f'target{assignment[0] + 1}_translation']
  second_target = observation[f'target{assignment[1] + 1}_translation']
  _place(env, 0, first_target)
  assert not _hold_still(env).is_last()
  _place(env, 1, second_target)
  time_step = _hold_still(env)
  assert time_step.is_last() and time_step.reward == 1.0
  assert env.get_info()['success']


def test_multimodal_fails_with_both_blocks_on_one_target(envs):
  env = envs['PUSH_MULTIMODAL']
  target = env.reset().observation['target1_translation']
  _place(env, 0, target + [0.0, 0.022])
  _place(env, 1, target - [0.0, 0.022])
  assert not _hold_still(env).is_last()
  assert not env.get_info()['success']


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
