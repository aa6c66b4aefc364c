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
`manifest.json` (per shard: episodes, steps, bytes and SHA-256); loading checks
the shards against it, so a shard cut on a record or episode boundary, or
lost, is an error rather than a smaller dataset. Data without a manifest (a
user's own, the reference's) loads as it is.
"""

import dataclasses
import hashlib
import json
import os
import struct
from typing import Any, Iterable, Optional, Sequence, Union

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
from tf_agents.utils import nest_utils

STATISTICS_FILENAME = 'statistics.json'
MANIFEST_FILENAME = 'manifest.json'
# What `collect` was asked for (task, episodes, seed, ...), beside the shards.
COLLECTION_FILENAME = 'collection.json'
SHARD_PATTERN = '*.tfrecord'
_SPEC_SUFFIX = '.spec'
_READ_BATCH_SIZE = 4096  # steps decoded per tf.data batch
_RECORD_HEADER_BYTES = 12  # uint64 length + uint32 masked crc of the length
_RECORD_FOOTER_BYTES = 4  # uint32 masked crc of the data
_HASH_CHUNK_BYTES = 1 << 22
_MANIFEST_FORMAT = 1


class DemoFileError(ValueError):
  """A demonstration file is missing, empty, corrupt or has the wrong spec."""


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
      _check_shards_listed(dataset_dir, paths)
    if not paths:
      raise DemoFileError(f'No demonstration shards found at {dataset}.')
    return paths
  return list(dataset)


def _check_shards_listed(dataset_dir: str, paths: Sequence[str]) -> None:
  """Raises if the dir's manifest lists other shards than the dir holds."""
  manifest = read_manifest(dataset_dir)
  if manifest is None:
    return
  manifest_path = os.path.join(dataset_dir, MANIFEST_FILENAME)
  present = {os.path.basename(path) for path in paths}
  for name in sorted(manifest):
    if name not in present:
      raise DemoFileError(
          f'Demonstration file {os.path.join(dataset_dir, name)} is missing: '
          f'{manifest_path} lists it.')


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
  _check_against_manifest(path)
  _check_record_framing(path)
  steps = _read_steps(path, spec)
  _check_finite(path, steps)
  if expected_spec is not None:
    _check_action_bounds(path, steps, expected_spec.action)
  episodes = _split_episodes(path, steps)
  _check_counts_against_manifest(path, episodes)
  return episodes


def _check_counts_against_manifest(
    path: str, episodes: Sequence[trajectory.Trajectory]) -> None:
  """Raises if the shard's episode or step count differs from its manifest's."""
  dataset_dir = os.path.dirname(path) or os.curdir
  entry = (read_manifest(dataset_dir) or {}).get(os.path.basename(path))
  if entry is None:
    return
  num_steps = sum(int(episode.step_type.shape[0]) for episode in episodes)
  if (len(episodes), num_steps) != (entry['episodes'], entry['steps']):
    raise DemoFileError(
        f'Demonstration file {path} holds {len(episodes)} episodes of '
        f'{num_steps} steps in all, but '
        f'{os.path.join(dataset_dir, MANIFEST_FILENAME)} records '
        f'{entry["episodes"]} episodes of {entry["steps"]} steps: the '
        'manifest was edited. Restore it, or delete it to load the shards '
        'unchecked.')


def read_manifest(dataset_dir: str) -> dict[str, dict[str, Any]] | None:
  """The shards `manifest.json` records, by base name; None without one.

  Raises:
    DemoFileError: naming the file, if it exists but cannot be read.
  """
  path = os.path.join(dataset_dir, MANIFEST_FILENAME)
  if not tf.io.gfile.exists(path):
    return None
  try:
    with tf.io.gfile.GFile(path, 'r') as f:
      shards = json.load(f)['shards']
    for entry in shards.values():
      for key in ('episodes', 'steps', 'bytes'):
        int(entry[key])
      str(entry['sha256'])
  except (ValueError, KeyError, TypeError, AttributeError) as e:
    raise DemoFileError(
        f'Cannot read the manifest {path} ({type(e).__name__}: {e}): expected '
        'the JSON that data_tools writes, {"shards": {name: {episodes, steps, '
        'bytes, sha256}}}. Restore it, or delete it to load the shards '
        'unchecked.') from e
  return shards


def _check_against_manifest(path: str) -> None:
  """Raises if the shard's size or checksum differs from its manifest's."""
  dataset_dir = os.path.dirname(path) or os.curdir
  manifest = read_manifest(dataset_dir)
  if manifest is None:
    return
  manifest_path = os.path.join(dataset_dir, MANIFEST_FILENAME)
  entry = manifest.get(os.path.basename(path))
  if entry is None:
    raise DemoFileError(
        f'Demonstration file {path} is not listed in {manifest_path}: it was '
        'added after the dataset was written. Move it elsewhere, or delete '
        'the manifest to load the shards unchecked.')
  size = tf.io.gfile.stat(path).length
  if size != entry['bytes']:
    kind = 'truncated' if size < entry['bytes'] else 'longer than written'
    raise DemoFileError(
        f'Demonstration file {path} is {kind}: it has {size} bytes, '
        f'{manifest_path} records {entry["bytes"]} ({entry["episodes"]} '
        f'episodes, {entry["steps"]} steps).')
  if shard_checksum(path) != entry['sha256']:
    raise DemoFileError(
        f'Demonstration file {path} and {manifest_path} disagree: the '
        'SHA-256 of its bytes differs from the one the manifest records, so '
        'the shard or the manifest was changed after the dataset was written.')


_checksums: dict[tuple[Any, ...], str] = {}


def shard_checksum(path: str) -> str:
  """The SHA-256 of a file's bytes (cached while the file is unchanged)."""
  if '://' in path:
    stat = tf.io.gfile.stat(path)
    key = (path, stat.length, stat.mtime_nsec)
  else:
    stat = os.stat(path)
    key = (path, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
  if key not in _checksums:
    digest = hashlib.sha256()
    with tf.io.gfile.GFile(path, 'rb') as f:
      while chunk := f.read(_HASH_CHUNK_BYTES):
        digest.update(chunk)
    _checksums[key] = digest.hexdigest()
  return _checksums[key]


def write_json(path: str, content: Any) -> None:
  """Writes JSON through a temporary file, so a kill never leaves half."""
  temp_path = path + '.partial'
  with tf.io.gfile.GFile(temp_path, 'w') as f:
    json.dump(content, f, indent=1, sort_keys=True)
  tf.io.gfile.rename(temp_path, path, overwrite=True)


def finish_dataset(dataset_dir: str,
                   paths: Sequence[str]) -> 'DatasetStatistics':
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
        sha256=shard_checksum(path))
  write_json(os.path.join(dataset_dir, MANIFEST_FILENAME),
              dict(format=_MANIFEST_FORMAT, shards=shards))
  statistics = DatasetStatistics.compute(episodes, paths)
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


def _check_record_framing(path: str) -> None:
  """Walks the TFRecord length headers; raises if the file ends mid-record.

  TensorFlow's reader treats a file cut inside a record header as a clean end
  of file, so truncation is checked here rather than left to it.
  """
  size = tf.io.gfile.stat(path).length
  if size == 0:
    raise DemoFileError(f'Demonstration file {path} is empty (no steps).')
  offset = 0
  with tf.io.gfile.GFile(path, 'rb') as f:
    while offset < size:
      header = f.read(_RECORD_HEADER_BYTES)
      length = (struct.unpack('<Q', header[:8])[0]
                if len(header) == _RECORD_HEADER_BYTES else size)
      end = offset + _RECORD_HEADER_BYTES + length + _RECORD_FOOTER_BYTES
      if end > size:
        raise DemoFileError(f'Demonstration file {path} is truncated: its '
                            f'record at byte {offset} ends past the file end '
                            f'({size} bytes).')
      offset = end
      f.seek(offset)


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


def is_image(array: Union[np.ndarray, tf.Tensor, tf.TensorSpec]) -> bool:
  """Whether an observation leaf (array, tensor or spec) is an image: uint8."""
  return tf.as_dtype(array.dtype) == tf.uint8


@dataclasses.dataclass
class DatasetStatistics:
  """Observation mean/std and action range of a demonstration dataset.

  Values are raw (no std floor); normalizers and samplers add their own
  epsilon and boundary buffer. Image leaves (`is_image`) have None for mean
  and std: images are not standardised, networks scale them to [0, 1].
  `shards` maps the base name of each shard they were computed from to its
  SHA-256, so statistics of other or changed shards are never reused.
  """

  observation_mean: types.NestedArray
  observation_std: types.NestedArray
  action_min: np.ndarray
  action_max: np.ndarray
  num_episodes: int
  num_steps: int
  shards: dict[str, str] = dataclasses.field(default_factory=dict)

  @classmethod
  def compute(cls, episodes: Sequence[trajectory.Trajectory],
              shards: Sequence[str] = ()) -> 'DatasetStatistics':
    """Computes statistics over every step of the episodes."""
    if not episodes:
      raise ValueError('Cannot compute statistics of zero episodes.')
    observation = tf.nest.map_structure(
        lambda *xs: None if is_image(xs[0]) else np.concatenate(xs).astype(
            np.float64), *[episode.observation for episode in episodes])
    action = np.concatenate([episode.action for episode in episodes])
    return cls(
        observation_mean=tf.nest.map_structure(
            lambda x: None if x is None else x.mean(axis=0).astype(np.float32),
            observation),
        observation_std=tf.nest.map_structure(
            lambda x: None if x is None else x.std(axis=0).astype(np.float32),
            observation),
        action_min=action.min(axis=0).astype(np.float32),
        action_max=action.max(axis=0).astype(np.float32),
        num_episodes=len(episodes),
        num_steps=int(action.shape[0]),
        shards={os.path.basename(path): shard_checksum(path)
                for path in shards})

  def to_json(self) -> dict[str, Any]:
    """The statistics as JSON-serialisable content (`from_json` reads it)."""
    return {
        'observation': tf.nest.map_structure(
            lambda m, s: None if m is None else {'mean': m.tolist(),
                                                 'std': s.tolist()},
            self.observation_mean, self.observation_std),
        'action': {'min': self.action_min.tolist(),
                   'max': self.action_max.tolist()},
        'num_episodes': self.num_episodes,
        'num_steps': self.num_steps,
        'shards': dict(self.shards),
    }

  @classmethod
  def from_json(cls, content: Any, source: str) -> 'DatasetStatistics':
    """Reads what `to_json` wrote.

    Raises:
      DemoFileError: naming `source`, if the content is not statistics.
    """
    try:
      observation = content['observation']
      shards = content['shards']
      statistics = cls(
          observation_mean=_leaves_from_json(observation, 'mean'),
          observation_std=_leaves_from_json(observation, 'std'),
          action_min=np.asarray(content['action']['min'], np.float32),
          action_max=np.asarray(content['action']['max'], np.float32),
          num_episodes=int(content['num_episodes']),
          num_steps=int(content['num_steps']),
          shards=(dict(shards) if isinstance(shards, dict)
                  else dict.fromkeys(shards, '')))  # older files: names only
    except (ValueError, KeyError, TypeError, AttributeError) as e:
      raise DemoFileError(
          f'Cannot read the dataset statistics {source} ({type(e).__name__}: '
          f'{e}): expected the JSON that data_tools writes (observation '
          'mean and std, action min and max, counts, shards). Delete it to '
          'have it computed again from the shards.') from e
    problem = statistics.problem()
    if problem:
      raise DemoFileError(
          f'The dataset statistics {source} are unusable: {problem}. Delete '
          'the file to have them computed again from the shards.')
    return statistics

  def problem(self) -> Optional[str]:
    """What makes these statistics unusable for normalizing; None if nothing.

    Every value must be finite, every std >= 0 and every action min <= its
    max (a zero range is usable: the normalizers widen it).
    """
    named = {'action min': self.action_min, 'action max': self.action_max}
    for name, nest in (('observation mean', self.observation_mean),
                       ('observation std', self.observation_std)):
      for path, leaf in nest_utils.flatten_with_joined_paths(nest):
        if leaf is not None:
          named[f'{name} {path}'.strip()] = leaf
    for name, values in named.items():
      values = np.asarray(values, np.float64)
      if not np.all(np.isfinite(values)):
        return f'{name} holds a non-finite value ({values.tolist()})'
    for path, std in nest_utils.flatten_with_joined_paths(
        self.observation_std):
      if std is not None and np.any(np.asarray(std) < 0):
        return (f'{f"observation std {path}".strip()} is negative '
                f'({np.asarray(std).tolist()})')
    if np.any(self.action_min > self.action_max):
      return (f'action min {self.action_min.tolist()} exceeds action max '
              f'{self.action_max.tolist()}')
    return None

  def save(self, dataset_dir: str) -> str:
    """Writes `dataset_dir/statistics.json`; returns its path."""
    path = os.path.join(dataset_dir, STATISTICS_FILENAME)
    write_json(path, self.to_json())
    return path

  @classmethod
  def load(cls, dataset_dir: str) -> 'DatasetStatistics':
    """Reads `dataset_dir/statistics.json`.

    Raises:
      DemoFileError: naming the file, if it cannot be read as statistics.
    """
    path = os.path.join(dataset_dir, STATISTICS_FILENAME)
    with tf.io.gfile.GFile(path, 'r') as f:
      text = f.read()
    try:
      content = json.loads(text)
    except ValueError as e:
      raise DemoFileError(
          f'Cannot read the dataset statistics {path} ({type(e).__name__}: '
          f'{e}): it is not JSON. Delete it to have it computed again from '
          'the shards.') from e
    return cls.from_json(content, path)


def _leaves_from_json(node: Any, key: str) -> types.NestedArray:
  """Rebuilds the observation nest from JSON whose leaves are {mean, std}.

  Image leaves are null in the JSON and None in the nest.
  """
  if node is None:
    return None
  if isinstance(node, dict) and set(node) == {'mean', 'std'}:
    return np.asarray(node[key], np.float32)
  if isinstance(node, dict):
    return {k: _leaves_from_json(v, key) for k, v in node.items()}
  return tuple(_leaves_from_json(v, key) for v in node)


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
) -> tuple[list[trajectory.Trajectory], DatasetStatistics]:
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
) -> DatasetStatistics:
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
      os.path.join(dataset_dir, STATISTICS_FILENAME)):
    stats = DatasetStatistics.load(dataset_dir)
    if stats.shards == {os.path.basename(path): shard_checksum(path)
                        for path in paths}:
      return stats
    logging.info('%s describes other shards or contents; recomputing.',
                 STATISTICS_FILENAME)
  if episodes is None:
    episodes = load_episodes(paths, expected_spec)
  stats = DatasetStatistics.compute(episodes, paths)
  names = sorted(os.path.basename(path) for path in paths)
  if dataset_dir is not None and names == sorted(
      os.path.basename(p) for p in find_shards(dataset_dir)):
    try:
      logging.info('Saved dataset statistics to %s.', stats.save(dataset_dir))
    except (OSError, tf.errors.OpError) as error:  # e.g. a read-only dataset
      logging.warning('Could not save dataset statistics in %s (%s); they '
                      'will be computed again next time.', dataset_dir, error)
  return stats
