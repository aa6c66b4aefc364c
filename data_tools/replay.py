"""Serve demonstration windows to the learner through Reverb.

The table holds one item per training example: the `sequence_length`
consecutive steps of one episode that end at that example's step. Windows
never cross episodes; the first steps of an episode repeat its first step,
as `HistoryWrapper(tile_first_step_obs=True)` does for the policy.
"""
from typing import Optional, Sequence

import numpy as np
import reverb
import tensorflow as tf
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import trajectory

TABLE_NAME = 'demonstrations'
# The table never empties, so a sample that waits this long means it was
# reset or wiped; the dataset then ends instead of blocking forever.
SAMPLE_TIMEOUT_SECONDS = 60.0
_SAMPLER_WORKERS = 2  # Reverb sampler threads per dataset iterator


def make_table(data_spec: trajectory.Trajectory, sequence_length: int,
               max_size: int, name: str = TABLE_NAME) -> reverb.Table:
  """A uniform-sampling table of [T, ...] windows that are never removed."""
  return reverb.Table(
      name=name,
      sampler=reverb.selectors.Uniform(),
      remover=reverb.selectors.Fifo(),
      max_size=max_size,
      rate_limiter=reverb.rate_limiters.MinSize(1),
      signature=tensor_spec.add_outer_dim(
          tensor_spec.from_spec(data_spec), sequence_length))


def insert_episodes(client: reverb.Client, episodes: Sequence[trajectory.Trajectory],
                    sequence_length: int, table_name: str = TABLE_NAME) -> int:
  """Writes every window of every episode [L, ...] as one item; returns the count."""
  num_items = 0
  with client.trajectory_writer(num_keep_alive_refs=sequence_length) as writer:
    for episode in episodes:
      length = episode.step_type.shape[0]
      is_last = episode.step_type == 2
      padding = [0] * (sequence_length - 1)
      for step, index in enumerate(padding + list(range(length))):
        writer.append(tf.nest.map_structure(lambda x: x[index], episode))
        end = step - (sequence_length - 1)
        if end >= 0 and not is_last[end]:
          writer.create_item(
              table_name, priority=1.0,
              trajectory=tf.nest.map_structure(
                  lambda column: column[-sequence_length:], writer.history))
          num_items += 1
      writer.end_episode(clear_buffers=True)
    writer.flush()
  return num_items


def count_windows(episodes: Sequence[trajectory.Trajectory]) -> int:
  """Number of training windows (non-LAST steps) in the episodes."""
  return int(sum(np.sum(episode.step_type != 2) for episode in episodes))


class DemonstrationReplay:
  """An embedded Reverb server holding every demonstration window.

  Use as a context manager (or call `close`) to stop the server.
  """

  def __init__(self, episodes: Sequence[trajectory.Trajectory],
               data_spec: trajectory.Trajectory, sequence_length: int,
               port: Optional[int] = None):
    num_windows = count_windows(episodes)
    if num_windows == 0:
      raise ValueError('The demonstrations hold no training window: '
                       'every episode is empty or only a LAST step.')
    self.data_spec = data_spec
    self.sequence_length = sequence_length
    self.server = reverb.Server(
        [make_table(data_spec, sequence_length, num_windows)], port=port)
    self.address = f'localhost:{self.server.port}'
    self.num_items = insert_episodes(
        reverb.Client(self.address), episodes, sequence_length)

  def as_dataset(self, batch_size: int, prefetch: int = 4) -> tf.data.Dataset:
    """`reverb.ReplaySample(info, data=Trajectory [B, T, ...])` batches.

    The dataset ends (`OutOfRangeError` in a train step) when a sample waits
    `SAMPLE_TIMEOUT_SECONDS` for the table: it was reset or wiped.

    This is what `tf_agents.train.Learner(..., use_reverb_v2=True)` reads.
    Reading the table directly streams about three times as many windows per
    second as `ReverbReplayBuffer.as_dataset`, whose per-item interleave and
    maps dominate a small network's train step on a CPU. The table itself is
    a standard one: `ReverbReplayBuffer(data_spec, TABLE_NAME,
    sequence_length, server_address=address)` samples it too.
    """
    return reverb.TrajectoryDataset.from_table_signature(
        self.address, TABLE_NAME,
        max_in_flight_samples_per_worker=2 * batch_size,
        num_workers_per_iterator=_SAMPLER_WORKERS,
        rate_limiter_timeout_ms=int(SAMPLE_TIMEOUT_SECONDS * 1000),
    ).batch(batch_size, drop_remainder=True).prefetch(prefetch)

  def __enter__(self) -> 'DemonstrationReplay':
    return self

  def __exit__(self, *unused_exc) -> None:
    self.close()

  def close(self) -> None:
    self.server.stop()
