import numpy as np
import pytest
import reverb
import tensorflow as tf
from tf_agents.replay_buffers import reverb_replay_buffer
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import trajectory

from data_tools import demos
from data_tools import replay

SPEC = trajectory.Trajectory(
    step_type=tensor_spec.TensorSpec((), tf.int32),
    observation={'episode': tensor_spec.TensorSpec((), tf.float32),
                 'step': tensor_spec.TensorSpec((), tf.float32)},
    action=tensor_spec.BoundedTensorSpec((1,), tf.float32, -1.0, 1.0),
    policy_info=(),
    next_step_type=tensor_spec.TensorSpec((), tf.int32),
    reward=tensor_spec.TensorSpec((), tf.float32),
    discount=tensor_spec.TensorSpec((), tf.float32))


def _episode(episode_id, length):
  """An episode whose observations record (episode id, step index)."""
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


def test_table_holds_one_window_per_non_terminal_step():
  episodes = [_episode(0, 5), _episode(1, 3), _episode(2, 9)]
  with replay.DemonstrationReplay(episodes, SPEC, sequence_length=3) as served:
    assert served.num_items == 4 + 2 + 8
    info = reverb.Client(served.address).server_info()
    assert info[replay.TABLE_NAME].current_size == 14


@pytest.mark.parametrize('sequence_length', [1, 3])
def test_windows_never_cross_episodes_and_pad_the_first_steps(sequence_length):
  episodes = [_episode(episode_id, length)
              for episode_id, length in enumerate([2, 4, 7, 3])]
  with replay.DemonstrationReplay(episodes, SPEC, sequence_length) as served:
    experience = next(iter(served.as_dataset(batch_size=256))).data
  episode_ids = experience.observation['episode'].numpy()
  steps = experience.observation['step'].numpy()
  assert (episode_ids == episode_ids[:, :1]).all()
  ends = steps[:, -1]
  expected = np.maximum(ends[:, None] + np.arange(1 - sequence_length, 1), 0)
  np.testing.assert_array_equal(steps, expected)
  assert (experience.step_type.numpy()[:, -1] != 2).all()
  lengths = np.array([2, 4, 7, 3])[episode_ids[:, 0].astype(int)]
  assert (ends < lengths - 1).all()


def test_no_training_window_is_an_error():
  only_terminal = _episode(0, 1)
  with pytest.raises(ValueError, match='no training window'):
    replay.DemonstrationReplay([only_terminal], SPEC, sequence_length=2)


def test_reverb_server_on_localhost_serves_anchor_demonstrations(anchor_dir):
  shards = demos.find_shards(str(anchor_dir / 'door-human-v0'))
  episodes = demos.load_episodes(shards)
  spec = tf.nest.map_structure(
      lambda x: tensor_spec.TensorSpec(x.shape[1:], tf.as_dtype(x.dtype)),
      episodes[0])
  with replay.DemonstrationReplay(episodes, spec, sequence_length=2) as served:
    assert served.num_items == 1700 - 11
    remote = reverb_replay_buffer.ReverbReplayBuffer(
        spec, replay.TABLE_NAME, sequence_length=2,
        server_address=served.address)
    experience, _ = next(iter(remote.as_dataset(sample_batch_size=8,
                                                num_steps=2)))
  assert experience.observation.shape == (8, 2, 39)
  assert experience.action.shape == (8, 2, 28)
  assert experience.step_type.shape == (8, 2)


def test_uint8_images_come_out_of_reverb_unchanged():
  image_spec = SPEC._replace(observation=dict(
      SPEC.observation, rgb=tensor_spec.TensorSpec((6, 8, 3), tf.uint8)))
  rng = np.random.default_rng(0)
  episodes = []
  for episode_id, length in enumerate([3, 5]):
    episode = _episode(episode_id, length)
    episodes.append(episode._replace(observation=dict(
        episode.observation,
        rgb=rng.integers(0, 256, (length, 6, 8, 3), dtype=np.uint8))))
  with replay.DemonstrationReplay(episodes, image_spec, 2) as served:
    experience = next(iter(served.as_dataset(batch_size=16))).data
  images = experience.observation['rgb']
  assert images.dtype == tf.uint8 and images.shape == (16, 2, 6, 8, 3)
  episode_ids = experience.observation['episode'].numpy().astype(int)
  steps = experience.observation['step'].numpy().astype(int)
  for row in range(16):
    for t in range(2):
      np.testing.assert_array_equal(
          images[row, t].numpy(),
          episodes[episode_ids[row, t]].observation['rgb'][steps[row, t]])
