"""Oracle collection on block pushing writes shards that load back."""
import os

import gin
import numpy as np
from tf_agents.trajectories import time_step as ts

import environments
from data_tools import dataset_statistics
from data_tools import demos


def test_collect_writes_push_shards_that_load_episodes_reads(push_demos):
  paths = demos.find_shards(push_demos.directory)

  env = environments.make('PUSH')
  try:
    spec = demos.trajectory_spec_from_env(env)
    tolerance = env.success_tolerance
  finally:
    env.close()
  episodes = demos.load_episodes(paths, expected_spec=spec)
  assert len(paths) == 2
  assert len(episodes) == push_demos.num_episodes
  for episode in episodes:
    assert episode.step_type[0] == ts.StepType.FIRST
    assert episode.step_type[-1] == ts.StepType.LAST
    assert episode.reward[-2] == 1.0 and episode.discount[-2] == 0.0
    assert episode.observation['block_translation'].shape[1:] == (2,)
    assert episode.observation['block_orientation'].shape[1:] == (1,)
    final = {key: value[-1] for key, value in episode.observation.items()}
    assert np.linalg.norm(final['block_translation'] -
                          final['target_translation']) < tolerance
  stats = dataset_statistics.DatasetStatistics.load(push_demos.directory)
  assert stats.num_episodes == push_demos.num_episodes
  assert np.all(stats.action_max <= env.action_spec().maximum + 1e-7)


def test_collect_writes_pixel_shards_of_uint8_images_that_load_back(
    pixel_demos):
  paths = demos.find_shards(pixel_demos.directory)
  gin.parse_config(pixel_demos.gin_bindings)
  try:
    env = environments.make('PUSH_PIXELS')
  finally:
    gin.clear_config()
  try:
    spec = demos.trajectory_spec_from_env(env)
  finally:
    env.close()
  episodes = demos.load_episodes(paths, expected_spec=spec)
  assert len(episodes) == pixel_demos.num_episodes
  num_steps = 0
  for episode in episodes:
    images = episode.observation['rgb']
    assert images.dtype == np.uint8 and images.shape[1:] == (24, 32, 3)
    assert not np.array_equal(images[0], images[-1])  # the scene moved
    assert episode.reward[-2] == 1.0
    num_steps += len(images)
  # Stored as raw bytes: an image costs its 2304 pixel values, not 4x that.
  size = sum(os.path.getsize(path) for path in paths)
  assert size < num_steps * (24 * 32 * 3 + 500)
  stats = dataset_statistics.DatasetStatistics.load(pixel_demos.directory)
  assert stats.observation_mean['rgb'] is None
  assert stats.observation_mean['effector_translation'].shape == (2,)
