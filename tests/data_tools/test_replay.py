import pytest
import reverb
import tensorflow as tf
from tf_agents.replay_buffers import reverb_replay_buffer
from tf_agents.specs import tensor_spec

from data_tools import demos
from data_tools import replay


def test_table_holds_one_window_per_non_terminal_step(numbered_spec,
                                                     numbered_episode):
  episodes = [numbered_episode(0, 5), numbered_episode(1, 3),
              numbered_episode(2, 9)]
  with replay.DemonstrationReplay(episodes, numbered_spec,
                                  sequence_length=3) as served:
    assert served.num_items == 4 + 2 + 8
    info = reverb.Client(served.address).server_info()
    assert info[replay.TABLE_NAME].current_size == 14


@pytest.mark.parametrize('sequence_length', [1, 3])
def test_windows_never_cross_episodes_and_pad_the_first_steps(
    sequence_length, numbered_spec, numbered_episode, check_windows):
  lengths = [2, 4, 7, 3]
  episodes = [numbered_episode(episode_id, length)
              for episode_id, length in enumerate(lengths)]
  with replay.DemonstrationReplay(episodes, numbered_spec,
                                  sequence_length) as served:
    experience = next(iter(served.as_dataset(batch_size=256))).data
  check_windows(experience, lengths, sequence_length)


def test_no_training_window_is_an_error(numbered_spec, numbered_episode):
  only_terminal = numbered_episode(0, 1)
  with pytest.raises(ValueError, match='no training window'):
    replay.DemonstrationReplay([only_terminal], numbered_spec,
                               sequence_length=2)


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


def test_uint8_images_come_out_of_reverb_unchanged(image_episodes,
                                                   check_images):
  image_spec, episodes = image_episodes([3, 5])
  with replay.DemonstrationReplay(episodes, image_spec, 2) as served:
    experience = next(iter(served.as_dataset(batch_size=16))).data
  assert experience.observation['rgb'].shape == (16, 2, 6, 8, 3)
  check_images(experience, episodes)
