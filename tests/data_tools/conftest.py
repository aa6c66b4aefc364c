"""Small demonstrations whose observations say where each step comes from."""
import numpy as np
import pytest
import tensorflow as tf
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import trajectory

NUMBERED_SPEC = trajectory.Trajectory(
    step_type=tensor_spec.TensorSpec((), tf.int32),
    observation={'episode': tensor_spec.TensorSpec((), tf.float32),
                 'step': tensor_spec.TensorSpec((), tf.float32)},
    action=tensor_spec.BoundedTensorSpec((1,), tf.float32, -1.0, 1.0),
    policy_info=(),
    next_step_type=tensor_spec.TensorSpec((), tf.int32),
    reward=tensor_spec.TensorSpec((), tf.float32),
    discount=tensor_spec.TensorSpec((), tf.float32))


def _numbered_episode(episode_id: int, length: int) -> trajectory.Trajectory:
  """An episode [L] whose observations record (episode id, step index)."""
  step_type = np.full(length, 1, np.int32)
  step_type[0], step_type[-1] = 0, 2
  return trajectory.Trajectory(
      step_type=step_type,
      observation={'episode': np.full(length, episode_id, np.float32),
                   'step': np.arange(length, dtype=np.float32)},
      action=np.zeros((length, 1), np.float32),
      policy_info=(),
      next_step_type=np.roll(step_type, -1),
      reward=np.zeros(length, np.float32),
      discount=np.ones(length, np.float32))


@pytest.fixture
def numbered_spec() -> trajectory.Trajectory:
  """The spec of `numbered_episode`'s steps."""
  return NUMBERED_SPEC


@pytest.fixture
def numbered_episode():
  """Makes an episode [L] whose observations record (episode id, step)."""
  return _numbered_episode


def _check_windows(experience: trajectory.Trajectory, lengths, sequence_length):
  """Asserts that windows [B, T] of numbered episodes of `lengths` are the
  table's: within one episode, ending at a non-LAST step, padded with the
  episode's first step."""
  episode_ids = experience.observation['episode'].numpy()
  steps = experience.observation['step'].numpy()
  assert (episode_ids == episode_ids[:, :1]).all()
  ends = steps[:, -1]
  expected = np.maximum(ends[:, None] + np.arange(1 - sequence_length, 1), 0)
  np.testing.assert_array_equal(steps, expected)
  assert (experience.step_type.numpy()[:, -1] != 2).all()
  episode_lengths = np.array(lengths)[episode_ids[:, 0].astype(int)]
  assert (ends < episode_lengths - 1).all()


@pytest.fixture
def check_windows():
  """Asserts that a batch of numbered windows is what the table holds."""
  return _check_windows
