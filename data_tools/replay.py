"""Serve demonstration windows to the learner through Reverb.

The table holds one item per training example: the `sequence_length`
consecutive steps of one episode that end at that example's step. Windows
never cross episodes; the first steps of an episode repeat its first step,
as `HistoryWrapper(tile_first_step_obs=True)` does for the policy. A second
table holds one item, the dataset's description
(`loading.DemonstrationInfo`), so that a trainer reading a standalone server
(`data_tools.replay_server`) needs no copy of the data.
"""
import abc
import threading
import time
from typing import Any, Callable, Mapping, Optional, Sequence

import gin
import numpy as np
import reverb
import tensorflow as tf
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import trajectory
from tf_agents.utils import nest_utils

from data_tools import loading

TABLE_NAME = 'demonstrations'
INFO_TABLE_NAME = 'demonstration_info'
# The table never empties, so a sample that waits this long means it was
# reset or wiped; the dataset then ends instead of blocking forever.
SAMPLE_TIMEOUT_SECONDS = 60.0
_SAMPLER_WORKERS = 2  # Reverb sampler threads per dataset iterator
# The exit status of a server whose tables another client wrote to (sysexits'
# EX_DATAERR: the data served can no longer be trusted).
ALTERED_EXIT_STATUS = 65
# How long a trainer waits for a standalone server to answer at start.
CONNECT_TIMEOUT_SECONDS = 30


def window_signature(data_spec: trajectory.Trajectory,
                     sequence_length: int) -> trajectory.Trajectory:
  """The table's item signature: the data spec with a time dimension [T, ...]."""
  return tensor_spec.add_outer_dim(tensor_spec.from_spec(data_spec),
                                   sequence_length)


def make_table(data_spec: trajectory.Trajectory, sequence_length: int,
               max_size: int, name: str = TABLE_NAME) -> reverb.Table:
  """A uniform-sampling table of [T, ...] windows that are never removed."""
  return reverb.Table(
      name=name,
      sampler=reverb.selectors.Uniform(),
      remover=reverb.selectors.Fifo(),
      max_size=max_size,
      rate_limiter=reverb.rate_limiters.MinSize(1),
      signature=window_signature(data_spec, sequence_length))


def _make_info_table() -> reverb.Table:
  return reverb.Table(
      name=INFO_TABLE_NAME, sampler=reverb.selectors.Uniform(),
      remover=reverb.selectors.Fifo(), max_size=1,
      rate_limiter=reverb.rate_limiters.MinSize(1),
      signature=tf.TensorSpec((), tf.string))


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


def sample_dataset(address: str, batch_size: int,
                   prefetch: int = 4) -> tf.data.Dataset:
  """`reverb.ReplaySample(info, data=Trajectory [B, T, ...])` batches.

  The dataset ends (`OutOfRangeError` in a train step) when a sample waits
  `SAMPLE_TIMEOUT_SECONDS` for the table: it was reset or wiped, or its
  server is gone.

  This is what `tf_agents.train.Learner(..., use_reverb_v2=True)` reads.
  Reading the table directly streams about three times as many windows per
  second as `ReverbReplayBuffer.as_dataset`, whose per-item interleave and
  maps dominate a small network's train step on a CPU. The table itself is
  a standard one: `ReverbReplayBuffer(data_spec, TABLE_NAME,
  sequence_length, server_address=address)` samples it too.
  """
  return reverb.TrajectoryDataset.from_table_signature(
      address, TABLE_NAME,
      max_in_flight_samples_per_worker=2 * batch_size,
      num_workers_per_iterator=_SAMPLER_WORKERS,
      rate_limiter_timeout_ms=int(SAMPLE_TIMEOUT_SECONDS * 1000),
  ).batch(batch_size, drop_remainder=True).prefetch(prefetch)


class ServedDemonstrations(abc.ABC):
  """Demonstration windows on the Reverb server at `address`."""

  address: str

  def as_dataset(self, batch_size: int, prefetch: int = 4) -> tf.data.Dataset:
    """Batches of windows (`sample_dataset`)."""
    return sample_dataset(self.address, batch_size, prefetch)

  def __enter__(self):
    return self

  def __exit__(self, *unused_exc) -> None:
    self.close()

  @abc.abstractmethod
  def close(self) -> None:
    """Releases what this side holds (the embedded server stops)."""


class DemonstrationReplay(ServedDemonstrations):
  """A Reverb server holding every demonstration window (and their info).

  Use as a context manager (or call `close`) to stop the server. The server
  listens on every interface (Reverb cannot bind loopback only): see
  `data_tools.network_isolation` and `data_tools.replay_server`.
  """

  def __init__(self, episodes: Sequence[trajectory.Trajectory],
               data_spec: trajectory.Trajectory, sequence_length: int,
               port: Optional[int] = None,
               info: Optional[loading.DemonstrationInfo] = None):
    num_windows = loading.require_windows(episodes)
    self.data_spec = data_spec
    self.sequence_length = sequence_length
    self.info = info
    self.server = reverb.Server(
        [make_table(data_spec, sequence_length, num_windows),
         _make_info_table()], port=port)
    self.address = f'localhost:{self.server.port}'
    client = reverb.Client(self.address)
    self.num_items = insert_episodes(client, episodes, sequence_length)
    if info is not None:
      client.insert(np.asarray(info.to_bytes(), object),
                    priorities={INFO_TABLE_NAME: 1.0})

  @classmethod
  def from_dataset(cls, dataset: str, task: str,
                   data_spec: trajectory.Trajectory, sequence_length: int,
                   port: Optional[int] = None) -> 'DemonstrationReplay':
    """Serves a dataset (checked and loaded by `demos.load_dataset`)."""
    episodes, info = loading.load_with_info(dataset, task, data_spec,
                                            sequence_length)
    return cls(episodes, data_spec, sequence_length, port=port, info=info)

  def close(self) -> None:
    self.server.stop()


@gin.configurable
class RemoteDemonstrations(ServedDemonstrations):
  """The demonstrations of a standalone server (`data_tools.replay_server`).

  Connecting checks that the server answers within `timeout_seconds` and
  that its table holds windows of `data_spec` [T = sequence_length, ...].
  Reverb's samplers wait for a server that went away and carry on when it
  is back; `watch` bounds that wait.

  Raises:
    ConnectionError: if the server does not answer in time.
    ValueError: showing both signatures, if the table's items are not
      windows of `data_spec`; or if the server holds no demonstration table.
  """

  def __init__(self, address: str, data_spec: trajectory.Trajectory,
               sequence_length: int,
               timeout_seconds: float = CONNECT_TIMEOUT_SECONDS,
               lost_after_seconds: float = SAMPLE_TIMEOUT_SECONDS):
    self.address = address
    self.lost_after_seconds = lost_after_seconds
    self._stop_watching = threading.Event()
    self.data_spec = data_spec
    self.sequence_length = sequence_length
    client = reverb.Client(address)
    try:
      tables = client.server_info(timeout=max(1, int(timeout_seconds)))
    except (reverb.errors.DeadlineExceededError, RuntimeError) as e:
      raise ConnectionError(
          f'No demonstration server answered at {address} within '
          f'{timeout_seconds:.0f} s ({type(e).__name__}). Start one with '
          '`python -m data_tools.replay_server --dataset=... --task=... '
          '--history_length=... --port=...`, or check the address.') from None
    if TABLE_NAME not in tables or INFO_TABLE_NAME not in tables:
      raise ValueError(
          f'The Reverb server at {address} holds tables {sorted(tables)}, not '
          f'the demonstration tables {TABLE_NAME!r} and {INFO_TABLE_NAME!r}: '
          'is it a data_tools.replay_server?')
    expected = window_signature(data_spec, sequence_length)
    served = tables[TABLE_NAME].signature
    if describe_signature(served) != describe_signature(expected):
      raise ValueError(
          f'The demonstration server at {address} serves windows that do '
          'not match this training\'s task and history length.\n'
          f'Served:   {describe_signature(served)}\n'
          f'Expected: {describe_signature(expected)}')
    sample = next(client.sample(INFO_TABLE_NAME, num_samples=1))
    try:
      self.info = loading.DemonstrationInfo.from_bytes(
          np.asarray(sample[0].data[0]).item())
    except (ValueError, TypeError) as e:
      raise ValueError(f'The demonstration server at {address} sent an '
                       f'unusable description: {e}') from None
    self._writes = table_writes(tables)

  def watch(self, on_lost: Callable[[str], None],
            poll_seconds: float = 2.0) -> None:
    """Calls `on_lost(reason)` once the server is silent or altered.

    A daemon thread polls the server until `close`; `on_lost` is called once
    it has not answered for `lost_after_seconds`, or once a table was
    written to after this trainer connected.
    """

    def poll() -> None:
      client = reverb.Client(self.address)
      answered = time.monotonic()
      while not self._stop_watching.wait(poll_seconds):
        try:
          tables = client.server_info(timeout=max(1, int(poll_seconds)))
          answered = time.monotonic()
          altered = altered_table(self._writes, tables)
          if altered:
            on_lost(f'the demonstration server at {self.address} {altered}')
            return
        except (reverb.errors.DeadlineExceededError, RuntimeError):
          silent = time.monotonic() - answered
          if silent >= self.lost_after_seconds:
            on_lost(f'the demonstration server at {self.address} has not '
                    f'answered for {silent:.0f} s')
            return

    threading.Thread(target=poll, daemon=True,
                     name='demonstration-server-watch').start()

  def close(self) -> None:
    """Stops watching; the server itself belongs to its own process."""
    self._stop_watching.set()


def table_writes(tables: Mapping[str, Any]) -> dict[str, tuple[int, int]]:
  """(inserts, deletions) of each table, from `reverb.Client.server_info()`."""
  return {name: (int(table.rate_limiter_info.insert_stats.completed),
                 int(table.num_deleted_episodes))
          for name, table in tables.items()}


def altered_table(loaded: Mapping[str, tuple[int, int]],
                  tables: Mapping[str, Any]) -> Optional[str]:
  """Says which table was written to since `loaded` (`table_writes`); or None.

  The demonstration tables are written once, when the server loads its
  dataset; a later insert or removal can only come from another client.
  """
  now = table_writes(tables)
  for name in sorted(set(loaded) | set(now)):
    if now.get(name) != loaded.get(name):
      before, after = loaded.get(name, (0, 0)), now.get(name, (0, 0))
      change = ('emptied' if after[0] < before[0] else  # a reset
                f'{after[0] - before[0]} inserts, {after[1] - before[1]} '
                'removals')
      return (f'had its table {name!r} altered after loading ({change}): '
              'another client wrote to the demonstrations, so they can no '
              'longer be trusted')
  return None


def describe_signature(signature: Any) -> dict[str, str]:
  """`{path: 'shape dtype'}` of every leaf of a table signature."""
  return {path: f'{list(spec.shape)} {spec.dtype.name}'
          for path, spec in nest_utils.flatten_with_joined_paths(
              signature)}
