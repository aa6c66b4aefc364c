import numpy as np
import pytest
import tensorflow as tf

from data_tools import memory_replay
from data_tools import replay

LENGTHS = [2, 4, 7, 3]


def _numbered(numbered_episode):
  return [numbered_episode(episode_id, length)
          for episode_id, length in enumerate(LENGTHS)]


@pytest.mark.parametrize('sequence_length', [1, 3])
def test_windows_are_the_reverb_tables_windows(sequence_length, numbered_spec,
                                               numbered_episode, check_windows):
  episodes = _numbered(numbered_episode)
  held = memory_replay.InMemoryDemonstrations(episodes, numbered_spec,
                                              sequence_length)
  sample = next(iter(held.as_dataset(batch_size=512)))
  check_windows(sample.data, LENGTHS, sequence_length)
  with replay.DemonstrationReplay(episodes, numbered_spec,
                                  sequence_length) as served:
    assert held.num_items == served.num_items == sum(LENGTHS) - len(LENGTHS)
    reverb_sample = next(iter(served.as_dataset(batch_size=512))).data

  def distinct(experience):
    ids = experience.observation['episode'].numpy()
    steps = experience.observation['step'].numpy()
    return {(tuple(row_ids), tuple(row_steps))
            for row_ids, row_steps in zip(ids, steps)}

  # 512 draws of 12 windows: each is drawn with probability 1 - 1e-19.
  assert distinct(sample.data) == distinct(reverb_sample)
  assert sample.info.shape == (512,)


def test_windows_are_drawn_uniformly(numbered_spec, numbered_episode):
  held = memory_replay.InMemoryDemonstrations(
      _numbered(numbered_episode), numbered_spec, sequence_length=2)
  batches = iter(held.as_dataset(batch_size=1200))
  window_index = np.concatenate([next(batches).info.numpy()
                                 for _ in range(10)])
  counts = np.bincount(window_index, minlength=held.num_items)
  assert counts.shape == (12,)
  expected = len(window_index) / 12  # 1000 per window
  # Pearson's chi-square with 11 degrees of freedom: 31.3 is its 0.999 point.
  assert ((counts - expected)**2 / expected).sum() < 31.3


def test_the_global_seed_fixes_the_batches(numbered_spec, numbered_episode):
  held = memory_replay.InMemoryDemonstrations(
      _numbered(numbered_episode), numbered_spec, sequence_length=2)

  def first_batches(seed):
    tf.random.set_seed(seed)
    batches = iter(held.as_dataset(batch_size=8))
    return np.concatenate([next(batches).info.numpy() for _ in range(3)])

  np.testing.assert_array_equal(first_batches(3), first_batches(3))
  assert (first_batches(3) != first_batches(4)).any()


def test_no_training_window_is_an_error(numbered_spec, numbered_episode):
  with pytest.raises(ValueError, match='no training window'):
    memory_replay.InMemoryDemonstrations([numbered_episode(0, 1)],
                                         numbered_spec, sequence_length=2)


def test_uint8_images_keep_their_type_and_values(image_episodes,
                                                 check_images):
  image_spec, episodes = image_episodes(LENGTHS)
  held = memory_replay.InMemoryDemonstrations(episodes, image_spec, 2)
  experience = next(iter(held.as_dataset(batch_size=16))).data
  assert experience.observation['rgb'].shape == (16, 2, 6, 8, 3)
  check_images(experience, episodes)
