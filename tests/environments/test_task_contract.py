"""Every registered task keeps the environment contract (environments.task_env)."""
import numpy as np
import pytest

import environments
from environments import task_env

TASKS = environments.known_tasks()
IMAGE_TASKS = {'PUSH_PIXELS', 'PUSH_DISCONTINUOUS_PIXELS'}


def _first_steps(env, seed, num_steps=3):
  env.seed(seed)
  time_step = env.reset()
  observations = [time_step.observation]
  rng = np.random.default_rng(0)
  spec = env.action_spec()
  for _ in range(num_steps):
    time_step = env.step(rng.uniform(spec.minimum, spec.maximum,
                                     spec.shape).astype(np.float32))
    observations.append(time_step.observation)
  return observations


@pytest.mark.parametrize('task', TASKS)
def test_task_keeps_the_environment_contract(task):
  kwargs = ({'image_width': 32, 'image_height': 24} if task in IMAGE_TASKS
            else {})
  try:
    env = environments.make(task, **kwargs)
  except ImportError as error:  # D4RL tasks whose simulator is not installed
    pytest.skip(str(error))
  try:
    assert isinstance(env, task_env.TaskEnv)
    spec = env.action_spec()
    assert spec.dtype == np.float32 and len(spec.shape) == 1
    assert np.all(spec.minimum < spec.maximum)
    first, again, other = (_first_steps(env, 3), _first_steps(env, 3),
                           _first_steps(env, 4))
    for a, b in zip(first, again):
      for leaf_a, leaf_b in zip(*map(lambda x: list(_leaves(x)), (a, b))):
        np.testing.assert_array_equal(leaf_a, leaf_b)
    assert any(not np.array_equal(x, y)
               for x, y in zip(_leaves(first[0]), _leaves(other[0])))
    info = env.get_info()
    # 'success', and any other entries booleans too (PUSH_MULTIMODAL's p1, p2).
    assert 'success' in info
    assert all(isinstance(value, np.bool_) for value in info.values()), info
    if task in IMAGE_TASKS:
      image = env.render('rgb_array')
      assert image.dtype == np.uint8 and image.ndim == 3
      assert image.shape[-1] == 3
  finally:
    env.close()
  env.close()  # a second close does nothing


def _leaves(observation):
  if isinstance(observation, dict):
    return [observation[key] for key in sorted(observation)]
  return [observation]
