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
