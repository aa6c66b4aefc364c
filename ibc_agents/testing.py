"""Small specs and synthetic demonstration windows shared by the tests.

The observation is {'x': [3]} with a history of `HISTORY` steps and the
action [2] in [-1, 1]; the demonstrated action is a fixed function of the
last observation, so a short training run can learn it.
"""
import numpy as np
import tensorflow as tf
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import time_step as ts
from tf_agents.trajectories import trajectory

HISTORY = 2
OBSERVATION_SPEC = {'x': tensor_spec.TensorSpec((3,), tf.float32)}
ACTION_SPEC = tensor_spec.BoundedTensorSpec((2,), tf.float32, -1.0, 1.0)
DATA_SPEC = trajectory.Trajectory(
    step_type=tensor_spec.TensorSpec((), tf.int32),
    observation=OBSERVATION_SPEC,
    action=ACTION_SPEC,
    policy_info=(),
    next_step_type=tensor_spec.TensorSpec((), tf.int32),
    reward=tensor_spec.TensorSpec((), tf.float32),
    discount=tensor_spec.TensorSpec((), tf.float32))
TIME_STEP_SPEC = ts.time_step_spec(
    tensor_spec.add_outer_dims_nest(OBSERVATION_SPEC, (HISTORY,)))


def windows(x: np.ndarray, action: np.ndarray) -> trajectory.Trajectory:
  """Mid-episode windows [B, HISTORY, ...] from observations x [B, HISTORY, 3]."""
  batch_size = x.shape[0]
  return trajectory.Trajectory(
      step_type=tf.ones([batch_size, HISTORY], tf.int32),
      observation={'x': tf.constant(x, tf.float32)},
      action=tf.constant(action, tf.float32),
      policy_info=(),
      next_step_type=tf.ones([batch_size, HISTORY], tf.int32),
      reward=tf.zeros([batch_size, HISTORY]),
      discount=tf.ones([batch_size, HISTORY]))


def synthetic_experience(batch_size: int = 64, seed: int = 0,
                         action_scale: float = 0.9,
                         observation_scale: float = 1.0
                         ) -> trajectory.Trajectory:
  """Windows whose action is (x0, -x1) * action_scale of the observation."""
  rng = np.random.default_rng(seed)
  x = rng.uniform(-1, 1, (batch_size, HISTORY, 3)).astype(np.float32)
  action = np.stack([x[..., 0], -x[..., 1]], axis=-1) * action_scale
  return windows(x * observation_scale, action)


def bright_spot_images(batch_size: int, height: int = 12, width: int = 16,
                       seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
  """Grey uint8 images with a white 2 x 2 spot, and the spot's position.

  Returns:
    (images [B, height, width, 3] uint8, position [B, 2] as (x, y) in
    [-1, 1]), a task only a network that locates things in images solves.
  """
  rng = np.random.default_rng(seed)
  rows = rng.integers(0, height - 1, batch_size)
  columns = rng.integers(0, width - 1, batch_size)
  images = np.full((batch_size, height, width, 3), 40, np.uint8)
  for image, row, column in zip(images, rows, columns):
    image[row:row + 2, column:column + 2] = 255
  position = np.stack([columns / (width - 2), rows / (height - 2)], axis=-1)
  return images, (2.0 * position - 1.0).astype(np.float32)
