"""Dataset statistics: observation mean/std and action range, tied to shards.

`statistics.json` beside the shards is reused only for exactly the shards
(names and SHA-256) it was computed from, and checked before use.
"""

import dataclasses
import json
import os
from typing import Any, Optional, Sequence, Union

import numpy as np
import tensorflow as tf
from tf_agents.trajectories import trajectory
from tf_agents.typing import types
from tf_agents.utils import nest_utils

from data_tools import shard_manifest

STATISTICS_FILENAME = 'statistics.json'


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
        shards={os.path.basename(path): shard_manifest.shard_checksum(path)
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
      raise shard_manifest.DemoFileError(
          f'Cannot read the dataset statistics {source} ({type(e).__name__}: '
          f'{e}): expected the JSON that data_tools writes (observation '
          'mean and std, action min and max, counts, shards). Delete it to '
          'have it computed again from the shards.') from e
    problem = statistics.problem()
    if problem:
      raise shard_manifest.DemoFileError(
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
    shard_manifest.write_json(path, self.to_json())
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
      raise shard_manifest.DemoFileError(
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
