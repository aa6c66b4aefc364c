"""Demonstration windows sampled in the learner's memory, without a server.

The windows are `replay.DemonstrationReplay`'s (one per non-LAST step, the
first steps of an episode repeating its first step), drawn uniformly with
replacement as its table draws them. Every step is stored once and a batch
is one gather of step rows, so a small network's train step no longer waits
on Reverb's sampling and decoding, which share the CPU cores with it. A
Reverb server remains the way to share demonstrations between processes.
"""
from typing import Optional, Sequence

import numpy as np
import reverb
import tensorflow as tf
from tf_agents.trajectories import trajectory

from data_tools import loading


def window_steps(episode_lengths: Sequence[int], step_types: np.ndarray,
                 sequence_length: int) -> np.ndarray:
  """Rows of the concatenated steps that make each window [W, T].

  `step_types` [S] are the concatenated episodes' step types; a window ends
  at every step that is not LAST, and before an episode's start it repeats
  the episode's first step.
  """
  offsets = np.arange(sequence_length) - (sequence_length - 1)  # [T]
  windows = []
  start = 0
  for length in episode_lengths:
    ends = np.arange(length)
    rows = start + np.maximum(ends[:, None] + offsets[None, :], 0)  # [L, T]
    keep = step_types[start:start + length] != 2
    windows.append(rows[keep])
    start += length
  return np.concatenate(windows).astype(np.int64)


class InMemoryDemonstrations:
  """Every demonstration step in memory, served as uniform window batches.

  Works as `replay.DemonstrationReplay` does for one learner (`info`,
  `as_dataset`, a context manager); its batches are
  `reverb.ReplaySample(info=window_index [B], data=Trajectory [B, T, ...])`.
  """

  def __init__(self, episodes: Sequence[trajectory.Trajectory],
               data_spec: trajectory.Trajectory, sequence_length: int,
               info: Optional[loading.DemonstrationInfo] = None):
    loading.require_windows(episodes)
    self.data_spec = data_spec
    self.sequence_length = sequence_length
    self.info = info
    steps = tf.nest.map_structure(lambda *columns: np.concatenate(columns),
                                  *episodes)
    self._windows = window_steps(
        [episode.step_type.shape[0] for episode in episodes],
        steps.step_type, sequence_length)
    self.num_items = len(self._windows)
    with tf.device('/cpu:0'):
      self._steps = tf.nest.map_structure(
          lambda column, spec: tf.constant(column, spec.dtype),
          steps, data_spec)

  @classmethod
  def from_dataset(cls, dataset: str, task: str,
                   data_spec: trajectory.Trajectory,
                   sequence_length: int) -> 'InMemoryDemonstrations':
    """Holds a dataset (checked and loaded by `demos.load_dataset`)."""
    episodes, info = loading.load_with_info(dataset, task, data_spec,
                                           sequence_length)
    return cls(episodes, data_spec, sequence_length, info=info)

  def as_dataset(self, batch_size: int, prefetch: int = 4) -> tf.data.Dataset:
    """Endless batches of windows drawn uniformly with replacement.

    The draws follow TensorFlow's global seed (`tf.random.set_seed`).
    """
    windows = tf.constant(self._windows)
    steps = self._steps

    def gather(seed):
      window_index = tf.random.stateless_uniform(
          [batch_size], seed=tf.stack([seed, 0]), minval=0,
          maxval=self.num_items, dtype=tf.int64)  # [B]
      rows = tf.gather(windows, window_index)  # [B, T]
      return reverb.ReplaySample(
          info=window_index,
          data=tf.nest.map_structure(lambda column: tf.gather(column, rows),
                                     steps))

    # One element per batch: its integer seeds that batch's draws.
    return tf.data.Dataset.random().map(gather).prefetch(prefetch)

  def __enter__(self):
    return self

  def __exit__(self, *unused_exc) -> None:
    self.close()

  def close(self) -> None:
    """Nothing to release; present to match the served demonstrations."""
