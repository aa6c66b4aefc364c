"""Demonstrations on disk: TFRecord shards of TF-Agents `Trajectory` steps.

The format is exactly what `example_encoding_dataset.TFRecordObserver` writes
and what the reference IBC implementation publishes: one unbatched `Trajectory`
step per record (`load_tfrecord_dataset` adds the leading dim of 1 when it
reads them back), with the serialized trajectory spec in `<shard>.spec`. An
episode is the steps FIRST, MID..., LAST; its LAST step is the driver's
boundary step (next_step_type FIRST). Image observations (uint8) are stored
as their raw bytes, H x W x 3 bytes a step, and decoded in the tf.data
pipeline that reads the shard.

Every reading error names the offending file, so a broken demo file fails
loudly instead of training on nothing. Collection and conversion also write
`manifest.json` (`shard_manifest`) and `statistics.json`
(`dataset_statistics`); loading checks the shards against the manifest. Data
without a manifest (a user's own, the reference's) loads as it is.
"""

import json
import os
from typing import Any, Iterable, Sequence, Union

from absl import logging
from google.protobuf import message
import numpy as np
import tensorflow as tf
import tree
from tf_agents.environments import py_environment
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import time_step as ts
from tf_agents.trajectories import trajectory
from tf_agents.typing import types
from tf_agents.utils import example_encoding_dataset

from data_tools import dataset_statistics
from data_tools import shard_manifest
from data_tools.shard_manifest import DemoFileError

# What `collect` was asked for (task, episodes, seed, ...), beside the shards.
COLLECTION_FILENAME = 'collection.json'
SHARD_PATTERN = '*.tfrecord'
_SPEC_SUFFIX = '.spec'
_READ_BATCH_SIZE = 4096  # steps decoded per tf.data batch


def trajectory_spec_from_env(
    env: py_environment.PyEnvironment) -> trajectory.Trajectory:
  """Returns the env's collect data spec (TensorSpecs), as shards store it."""
  time_step_spec = tensor_spec.from_spec(env.time_step_spec())
  return trajectory.Trajectory(
      step_type=time_step_spec.step_type,
      observation=time_step_spec.observation,
      action=tensor_spec.from_spec(env.action_spec()),
      policy_info=(),
      next_step_type=time_step_spec.step_type,
      reward=time_step_spec.reward,
      discount=time_step_spec.discount)


class EpisodeWriter:
  """Writes whole episodes of unbatched `Trajectory` steps to one shard."""

  def __init__(self, path: str, trajectory_spec: trajectory.Trajectory):
    self._array_spec = tensor_spec.to_nest_array_spec(trajectory_spec)
    self._observer = example_encoding_dataset.TFRecordObserver(
        path, trajectory_spec, py_mode=True)
    self.path = path
    self.num_episodes = 0
    self.num_steps = 0

  def write(self, episode: Sequence[trajectory.Trajectory]) -> None:
    """Writes one complete episode: FIRST, MID..., LAST."""
    step_types = [int(step.step_type) for step in episode]
    if (len(step_types) < 2 or step_types[0] != ts.StepType.FIRST or
        step_types[-1] != ts.StepType.LAST):
      raise ValueError(
          f'An episode must run FIRST ... LAST, got step types {step_types}.')
    for step in episode:
      self._observer(tf.nest.map_structure(
          lambda spec, value: np.asarray(value, dtype=spec.dtype),
          self._array_spec, step))
    self.num_episodes += 1
    self.num_steps += len(episode)

  def close(self) -> None:
    self._observer.close()

  def __enter__(self) -> 'EpisodeWriter':
    return self

  def __exit__(self, *unused_exc_info) -> None:
    self.close()


def write_episodes(path: str, trajectory_spec: trajectory.Trajectory,
                   episodes: Iterable[Sequence[trajectory.Trajectory]]) -> int:
  """Writes episodes to the shard `path` (+ `.spec`); returns their count."""
  with EpisodeWriter(path, trajectory_spec) as writer:
    for episode in episodes:
      writer.write(episode)
  return writer.num_episodes


def find_shards(dataset: Union[str, Sequence[str]]) -> list[str]:
  """Returns the shard paths of a dataset dir, a glob pattern or a path list."""
  if isinstance(dataset, str):
    dataset_dir = dataset if tf.io.gfile.isdir(dataset) else None
    if dataset_dir is not None:
      dataset = os.path.join(dataset, SHARD_PATTERN)
    paths = sorted(tf.io.gfile.glob(dataset))
    if dataset_dir is not None:
      shard_manifest.check_shards_listed(dataset_dir, paths)
    if not paths:
      raise DemoFileError(f'No demonstration shards found at {dataset}.')
    return paths
  return list(dataset)


def load_episodes(
    paths: Sequence[str],
    expected_spec: trajectory.Trajectory | None = None,
) -> list[trajectory.Trajectory]:
  """Loads the complete episodes of the shards, each a Trajectory of [L, ...].

  Args:
    paths: shard paths, each with its `.spec` beside it.
    expected_spec: the env's collect data spec; when given, a shard whose
      observation or action spec differs (shape or dtype) is an error.

  Returns:
    The episodes of all shards, in shard order.

  Raises:
    DemoFileError: naming the file, if a shard or its spec is missing, a shard
      is empty, truncated or corrupt, its spec does not match `expected_spec`
      or it holds no complete episode.
  """
  if not paths:
    raise DemoFileError('No demonstration shards given.')
  episodes = []
  for path in paths:
    episodes.extend(_load_shard(path, expected_spec))
  return episodes


def _load_shard(path: str, expected_spec: trajectory.Trajectory | None):
  """Returns the complete episodes of one shard."""
  if not tf.io.gfile.exists(path):
    raise DemoFileError(f'Demonstration file {path} does not exist.')
  spec_path = path + _SPEC_SUFFIX
  if not tf.io.gfile.exists(spec_path):
    raise DemoFileError(
        f'Demonstration file {path} has no spec file {spec_path}.')
  try:
    spec = example_encoding_dataset.parse_encoded_spec_from_file(spec_path)
  except (StopIteration, tf.errors.OpError, message.DecodeError,
          ValueError) as e:
    reason = f'{type(e).__name__}: {e}' if str(e) else type(e).__name__
    raise DemoFileError(
        f'Cannot parse the spec file {spec_path} ({reason}): expected a '
        'serialized TF-Agents trajectory spec, as TFRecordObserver writes '
        'beside its shard.') from e
  if getattr(spec, '_fields', None) != trajectory.Trajectory._fields:
    raise DemoFileError(f'Spec file {spec_path} does not hold a Trajectory '
                        f'spec: {spec}.')
  spec = trajectory.Trajectory(*spec)  # The proto round trip loses the type.
  if expected_spec is not None:
    _check_spec(path, spec, expected_spec)
  shard_manifest.check_against_manifest(path)
  shard_manifest.check_record_framing(path)
  steps = _read_steps(path, spec)
  _check_finite(path, steps)
  if expected_spec is not None:
    _check_action_bounds(path, steps, expected_spec.action)
  episodes = _split_episodes(path, steps)
  shard_manifest.check_counts(path, episodes)
  return episodes


def finish_dataset(
    dataset_dir: str,
    paths: Sequence[str]) -> dataset_statistics.DatasetStatistics:
  """Writes `manifest.json` and `statistics.json` for freshly written shards.

  Returns the statistics.
  """
  shards, episodes = {}, []
  for path in paths:
    shard_episodes = _load_shard(path, None)
    episodes.extend(shard_episodes)
    shards[os.path.basename(path)] = dict(
        episodes=len(shard_episodes),
        steps=int(sum(len(e.step_type) for e in shard_episodes)),
        bytes=tf.io.gfile.stat(path).length,
        sha256=shard_manifest.shard_checksum(path))
  shard_manifest.write_manifest(dataset_dir, shards)
  statistics = dataset_statistics.DatasetStatistics.compute(episodes, paths)
  statistics.save(dataset_dir)
  return statistics


# Actions may exceed the action spec by this fraction of its range (rounding).
ACTION_BOUNDS_TOLERANCE = 0.01


def _check_action_bounds(path: str, steps: trajectory.Trajectory,
                         action_spec: types.NestedTensorSpec) -> None:
  """Raises at the first action outside a bounded spec, beyond the tolerance."""
  if not isinstance(action_spec, tensor_spec.BoundedTensorSpec):
    return
  actions = steps.action
  low = np.broadcast_to(action_spec.minimum, action_spec.shape)
  high = np.broadcast_to(action_spec.maximum, action_spec.shape)
  slack = ACTION_BOUNDS_TOLERANCE * (high - low)
  outside = np.any((actions < low - slack) | (actions > high + slack),
                   axis=tuple(range(1, actions.ndim)))
  if outside.any():
    step = int(np.argmax(outside))
    raise DemoFileError(
        f'Demonstration file {path} has an action outside the task\'s bounds '
        f'[{low.min()}, {high.max()}] (by more than '
        f'{ACTION_BOUNDS_TOLERANCE:.0%} of the range) at '
        f'{_locate(steps.step_type, step)}: {actions[step].tolist()}.')


def _check_finite(path: str, steps: trajectory.Trajectory) -> None:
  """Raises at the first NaN or infinite observation or action value.

  One such value would otherwise train the network on NaN, or stretch the
  action bounds, without a word.
  """
  leaves = tree.flatten_with_path(
      {'observation': steps.observation, 'action': steps.action})
  for path_keys, values in leaves:
    name = '/'.join(map(str, path_keys))
    if not np.issubdtype(values.dtype, np.floating):
      continue
    bad = ~np.isfinite(values.reshape(len(values), -1)).all(axis=1)
    if bad.any():
      step = int(np.argmax(bad))
      raise DemoFileError(
          f'Demonstration file {path} has a non-finite value in {name} at '
          f'{_locate(steps.step_type, step)}: {values[step].tolist()}.')


def _locate(step_type: np.ndarray, step: int) -> str:
  """'step S (episode E, its step K)' for the shard's step S, all from 0."""
  episode = int(np.sum(step_type[:step] == ts.StepType.LAST))
  starts = np.flatnonzero(step_type[:step + 1] == ts.StepType.FIRST)
  start = int(starts[-1]) if len(starts) else 0
  return f'step {step} (episode {episode}, its step {step - start})'


def _check_spec(path: str, spec: trajectory.Trajectory,
                expected_spec: trajectory.Trajectory) -> None:
  """Raises if the observation or action specs differ in shape or dtype."""
  for field in ('observation', 'action'):
    got = _describe_spec(getattr(spec, field))
    want = _describe_spec(getattr(expected_spec, field))
    if got != want:
      raise DemoFileError(
          f'Demonstration file {path} does not match the environment: its '
          f'{field} spec is {got}, the environment expects {want}.')


def _describe_spec(spec: types.NestedSpec) -> Any:
  """Returns a comparable, printable nest of 'dtype[shape]' strings."""
  return tf.nest.map_structure(
      lambda s: f'{tf.as_dtype(s.dtype).name}{list(s.shape)}',
      tensor_spec.from_spec(spec))


def _read_steps(path: str, spec: trajectory.Trajectory):
  """Returns all steps of a shard as one Trajectory of arrays [L, ...]."""
  dataset = example_encoding_dataset.load_tfrecord_dataset(
      [path], spec=spec, as_trajectories=True, add_batch_dim=False)
  try:
    batches = list(dataset.batch(_READ_BATCH_SIZE).as_numpy_iterator())
  except tf.errors.OpError as e:
    raise DemoFileError(
        f'Demonstration file {path} is corrupt: {e.message}') from e
  if not batches:
    raise DemoFileError(f'Demonstration file {path} is empty (no steps).')
  return tf.nest.map_structure(lambda *xs: np.concatenate(xs), *batches)


def _split_episodes(path: str, steps: trajectory.Trajectory):
  """Splits [L, ...] steps into episodes FIRST ... LAST (inclusive)."""
  step_type = steps.step_type
  ends = np.flatnonzero(step_type == ts.StepType.LAST) + 1
  starts = np.concatenate([[0], ends[:-1]])
  episodes = []
  for start, end in zip(starts, ends):
    if step_type[start] != ts.StepType.FIRST:
      raise DemoFileError(
          f'Demonstration file {path} has an episode at step {start} that '
          f'does not start with a FIRST step.')
    episodes.append(tf.nest.map_structure(
        lambda x, s=start, e=end: x[s:e], steps))
  num_trailing = len(step_type) - (ends[-1] if len(ends) else 0)
  if not episodes:
    raise DemoFileError(f'Demonstration file {path} has {len(step_type)} '
                        'steps but no complete episode (no LAST step).')
  if num_trailing:
    logging.warning('Dropping the unfinished last episode (%d steps) of %s.',
                    num_trailing, path)
  return episodes


def check_recorded_task(dataset: str, task: str) -> None:
  """Refuses a dataset directory that `collect` wrote for another task.

  Data without a record (converted, globs of shards) is not checked.

  Raises:
    DemoFileError: naming both tasks.
  """
  path = os.path.join(dataset, COLLECTION_FILENAME)
  if '*' in dataset or not tf.io.gfile.exists(path):
    return
  try:
    with tf.io.gfile.GFile(path) as f:
      recorded = json.load(f).get('task')
  except (ValueError, AttributeError) as e:
    raise DemoFileError(f'Cannot read {path} ({e}).') from e
  if recorded is not None and recorded != task:
    raise DemoFileError(
        f'{dataset} holds demonstrations of task {recorded} ({path}), not '
        f'of {task}: choose the dataset collected for {task}, or the task '
        f'{recorded}.')


def load_dataset(
    dataset: Union[str, Sequence[str]],
    expected_spec: trajectory.Trajectory | None = None,
) -> tuple[list[trajectory.Trajectory], dataset_statistics.DatasetStatistics]:
  """Loads the episodes of a dataset and their statistics, reading it once.

  Args:
    dataset: a dataset dir, a glob pattern or a list of shard paths.
    expected_spec: see `load_episodes`.

  Returns:
    The episodes (as `load_episodes`) and their statistics (as
    `load_or_compute_statistics`).
  """
  paths = find_shards(dataset)
  episodes = load_episodes(paths, expected_spec)
  return episodes, load_or_compute_statistics(paths, expected_spec, episodes)


def load_or_compute_statistics(
    dataset: Union[str, Sequence[str]],
    expected_spec: trajectory.Trajectory | None = None,
    episodes: Sequence[trajectory.Trajectory] | None = None,
) -> dataset_statistics.DatasetStatistics:
  """Returns the saved statistics of a dataset, computing them when needed.

  Saved statistics are reused only for exactly the shards (names and
  SHA-256) they were computed from. Statistics are saved as
  `statistics.json` in the dataset dir when the shards are all the shards of
  one dir; for another selection of shards they are computed but not saved,
  so the saved file always describes the whole dir. A dir that cannot be
  written (read-only data) is not an error.

  Args:
    dataset: a dataset dir, a glob pattern or a list of shard paths.
    expected_spec: passed to `load_episodes` when the shards must be read.
    episodes: the shards' episodes, when already loaded.
  """
  paths = find_shards(dataset)
  dirs = {os.path.dirname(path) or os.curdir for path in paths}
  dataset_dir = dirs.pop() if len(dirs) == 1 else None
  if dataset_dir is not None and tf.io.gfile.exists(
      os.path.join(dataset_dir, dataset_statistics.STATISTICS_FILENAME)):
    stats = dataset_statistics.DatasetStatistics.load(dataset_dir)
    if stats.shards == {os.path.basename(path):
                        shard_manifest.shard_checksum(path)
                        for path in paths}:
      return stats
    logging.info('%s describes other shards or contents; recomputing.',
                 dataset_statistics.STATISTICS_FILENAME)
  if episodes is None:
    episodes = load_episodes(paths, expected_spec)
  stats = dataset_statistics.DatasetStatistics.compute(episodes, paths)
  names = sorted(os.path.basename(path) for path in paths)
  if dataset_dir is not None and names == sorted(
      os.path.basename(p) for p in find_shards(dataset_dir)):
    try:
      logging.info('Saved dataset statistics to %s.', stats.save(dataset_dir))
    except (OSError, tf.errors.OpError) as error:  # e.g. a read-only dataset
      logging.warning('Could not save dataset statistics in %s (%s); they '
                      'will be computed again next time.', dataset_dir, error)
  return stats
