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


def _image_episodes(lengths):
  """(spec, numbered episodes with random uint8 images [L, 6, 8, 3])."""
  image_spec = NUMBERED_SPEC._replace(observation=dict(
      NUMBERED_SPEC.observation,
      rgb=tensor_spec.TensorSpec((6, 8, 3), tf.uint8)))
  rng = np.random.default_rng(0)
  episodes = []
  for episode_id, length in enumerate(lengths):
    episode = _numbered_episode(episode_id, length)
    episodes.append(episode._replace(observation=dict(
        episode.observation,
        rgb=rng.integers(0, 256, (length, 6, 8, 3), dtype=np.uint8))))
  return image_spec, episodes


def _check_images(experience: trajectory.Trajectory, episodes) -> None:
  """Asserts that each window's images [B, T, 6, 8, 3] are its steps'."""
  images = np.asarray(experience.observation['rgb'])
  assert images.dtype == np.uint8 and images.shape[2:] == (6, 8, 3)
  episode_ids = experience.observation['episode'].numpy().astype(int)
  steps = experience.observation['step'].numpy().astype(int)
  for row in range(images.shape[0]):
    for t in range(images.shape[1]):
      np.testing.assert_array_equal(
          images[row, t],
          episodes[episode_ids[row, t]].observation['rgb'][steps[row, t]])


@pytest.fixture
def image_episodes():
  """Makes (spec, numbered episodes of these lengths with uint8 images)."""
  return _image_episodes


@pytest.fixture
def check_images():
  """Asserts that sampled windows carry their steps' images unchanged."""
  return _check_images
