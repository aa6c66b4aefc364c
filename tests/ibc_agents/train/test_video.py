"""Tests for the episode GIF writer."""
import numpy as np
from PIL import Image
import tensorflow as tf
from tf_agents.environments import wrappers
from tf_agents.policies import random_py_policy

import environments
from ibc_agents.train import video


def _batched_random_policy(env):
  return random_py_policy.RandomPyPolicy(
      env.time_step_spec(), env.action_spec(), outer_dims=(1,), seed=0)


def test_write_gif_writes_every_frame_in_order(tmp_path):
  frames = [np.full((8, 10, 3), value, np.uint8) for value in (0, 128, 255)]
  path = str(tmp_path / 'frames.gif')
  video.write_gif(path, frames, frame_duration_ms=50)
  with Image.open(path) as image:
    assert image.n_frames == 3
    assert image.size == (10, 8)
    assert image.info['duration'] == 50
    greys = []
    for index in range(3):
      image.seek(index)
      greys.append(np.asarray(image.convert('L'))[0, 0])
  assert greys == [0, 128, 255]


def test_written_gif_decodes_exactly_in_tensorflow(tmp_path):
  # Every palette entry used, then a small change: a palette-optimising writer
  # marks the unchanged pixels of the second frame with an index past the
  # palette, which tf.io.decode_image (TensorBoard's frames) refuses.
  rng = np.random.default_rng(0)
  palette = rng.integers(0, 256, (8, 3), np.uint8)
  first = palette[rng.integers(0, 8, (24, 24))]
  second = first.copy()
  second[4:8, 4:8] = palette[1]
  path = str(tmp_path / 'frames.gif')
  video.write_gif(path, [first, second])
  decoded = tf.io.decode_image(tf.io.read_file(path), channels=3,
                               expand_animations=True)
  np.testing.assert_array_equal(decoded.numpy(), np.stack([first, second]))


def test_episode_frames_render_the_reset_and_every_step():
  env = wrappers.HistoryWrapper(
      environments.make('PARTICLE', seed=0, max_steps=7), history_length=2,
      tile_first_step_obs=True)
  frames = video.episode_frames(_batched_random_policy(env), env)
  assert len(frames) == 8
  assert frames[0].shape == (128, 128, 3)
  assert not all(np.array_equal(frames[0], frame) for frame in frames[1:])


def test_write_episode_gif_films_one_episode_of_the_task(tmp_path):
  env = environments.make('PARTICLE')
  policy = random_py_policy.RandomPyPolicy(
      wrappers.HistoryWrapper(env, history_length=2).time_step_spec(),
      env.action_spec(), outer_dims=(1,), seed=0)
  path = str(tmp_path / 'episode.gif')
  video.write_episode_gif(path, policy, 'PARTICLE', history_length=2, seed=3)
  with Image.open(path) as image:
    # A random particle rarely finishes: the episode runs to its step limit.
    assert 1 < image.n_frames <= env.max_steps + 1
    assert image.size == (128, 128)
