"""Tests for the block-pushing tasks observed through a camera (real pybullet)."""
import gin
import numpy as np
import pytest
from tf_agents.environments import utils as env_utils

import environments
from environments.block_pushing import pixel_envs

PIXEL_TASKS = {'PUSH_PIXELS': 'PUSH',
               'PUSH_DISCONTINUOUS_PIXELS': 'PUSH_DISCONTINUOUS'}


@pytest.fixture
def push_pixels():
  env = environments.make('PUSH_PIXELS', seed=0)
  yield env
  env.close()


def _hold_still(env):
  return env.step(np.zeros(2, np.float32)).observation


def test_observation_is_a_uint8_image_of_the_default_size_and_the_effector(
    push_pixels):
  observation = push_pixels.reset().observation
  assert set(observation) == {'rgb', 'effector_translation'}
  assert observation['rgb'].shape == (240, 320, 3)  # the original's size
  assert observation['rgb'].dtype == np.uint8
  assert observation['rgb'].std() > 0  # not a blank frame
  assert observation['effector_translation'].dtype == np.float32
  np.testing.assert_array_equal(observation['effector_translation'],
                                push_pixels.state()['effector_translation'])
  spec = push_pixels.observation_spec()
  assert spec['rgb'].shape == (240, 320, 3) and spec['rgb'].dtype == np.uint8


def test_image_changes_where_the_block_moves_and_only_there(push_pixels):
  push_pixels.reset()
  before = _hold_still(push_pixels)['rgb']
  still = _hold_still(push_pixels)['rgb']
  block = push_pixels.block_ids[0]
  client = push_pixels.pybullet_client
  position, orientation = client.getBasePositionAndOrientation(block)
  client.resetBasePositionAndOrientation(
      block, [position[0], position[1] + 0.1, position[2]], orientation)
  moved = _hold_still(push_pixels)['rgb']

  def changed(a, b):
    return int(np.sum(np.any(a != b, axis=-1)))

  # The 4 cm cube covers about 60 pixels: it uncovers one spot and covers
  # another (about 125 changed pixels); holding still changes one or two.
  assert changed(still, moved) > 60
  assert changed(before, still) < 10


@pytest.mark.parametrize('task', sorted(PIXEL_TASKS))
def test_pixel_task_has_the_state_task_layout_and_its_oracle_solves_it(task):
  pixel_env = environments.make(task, seed=4)
  state_env = environments.make(PIXEL_TASKS[task], seed=4)
  try:
    time_step = pixel_env.reset()
    state = state_env.reset().observation
    for key, value in state.items():
      np.testing.assert_array_equal(pixel_env.state()[key], value, err_msg=key)
    oracle = environments.make_oracle(task, pixel_env)
    while not time_step.is_last():
      time_step = pixel_env.step(oracle.action(time_step).action)
    assert pixel_env.get_info()['success']
  finally:
    pixel_env.close()
    state_env.close()


def test_specs_hold_for_random_episodes_at_a_gin_configured_size():
  gin.parse_config(['import environments.block_pushing.pixel_envs',
                    'PixelObservations.image_width = 32',
                    'PixelObservations.image_height = 24'])
  try:
    env = environments.make('PUSH_DISCONTINUOUS_PIXELS', seed=1, max_steps=4)
  finally:
    gin.clear_config()
  state_env = environments.make('PUSH_DISCONTINUOUS', seed=1)
  try:
    env_utils.validate_py_environment(env, episodes=2)
    assert env.reset().observation['rgb'].shape == (24, 32, 3)
    assert env.state_spec() == state_env.observation_spec()
  finally:
    env.close()
    state_env.close()


@pytest.mark.parametrize('width, height', [(0, 90), (120, -1)])
def test_image_size_below_one_pixel_is_rejected(width, height):
  with pytest.raises(ValueError, match='image_width and image_height'):
    pixel_envs.PushPixelsEnv(image_width=width, image_height=height)
