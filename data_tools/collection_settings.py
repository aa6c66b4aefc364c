"""`collection.json`: what a collection was asked for, to resume it with.

`collect` saves its settings before any worker starts. Run again with the
same settings, an unfinished collection resumes; with others, it is refused
rather than mixed into one dataset.
"""
import json
import os
from typing import Any, Mapping, Optional, Sequence

import tensorflow as tf

from data_tools import demos
from data_tools import shard_manifest


def describe(task: str, num_episodes: int, num_workers: int, seed: int,
             env_kwargs: Optional[Mapping[str, Any]],
             gin_files: Sequence[str], gin_bindings: Sequence[str],
             action_noise: float) -> dict[str, Any]:
  """What `collection.json` records: the arguments of `collect`."""
  return dict(task=task, num_episodes=num_episodes,
              num_workers=min(num_workers, num_episodes), seed=seed,
              env_kwargs=dict(env_kwargs or {}), gin_files=list(gin_files),
              gin_bindings=list(gin_bindings), action_noise=action_noise)


def is_finished(output_dir: str, task: str, num_episodes: int,
                num_workers: int = 1, seed: int = 0,
                env_kwargs: Optional[Mapping[str, Any]] = None,
                gin_files: Sequence[str] = (), gin_bindings: Sequence[str] = (),
                action_noise: float = 0.0) -> bool:
  """Whether `output_dir` holds the finished dataset `collect` would write."""
  settings_path = os.path.join(output_dir, demos.COLLECTION_FILENAME)
  if not (tf.io.gfile.exists(settings_path) and tf.io.gfile.exists(
      os.path.join(output_dir, shard_manifest.MANIFEST_FILENAME))):
    return False
  with tf.io.gfile.GFile(settings_path) as f:
    try:
      saved = json.load(f)
    except ValueError:
      return False
  return saved == describe(task, num_episodes, num_workers, seed, env_kwargs,
                           gin_files, gin_bindings, action_noise)


def start_or_resume(output_dir: str, settings: Mapping[str, Any]) -> None:
  """Saves the settings of a new collection, or checks those of a resumed one.

  Raises:
    FileExistsError: if `output_dir` holds a finished dataset, or shards
      that no collection with saved settings wrote.
    ValueError: if an unfinished collection there has other settings.
  """
  tf.io.gfile.makedirs(output_dir)
  manifest = os.path.join(output_dir, shard_manifest.MANIFEST_FILENAME)
  if tf.io.gfile.exists(manifest):
    raise FileExistsError(f'{output_dir} already holds a finished dataset '
                          f'({manifest}); collect into an empty directory.')
  settings_path = os.path.join(output_dir, demos.COLLECTION_FILENAME)
  existing = tf.io.gfile.glob(os.path.join(output_dir, demos.SHARD_PATTERN))
  if not tf.io.gfile.exists(settings_path):
    if existing:
      raise FileExistsError(
          f'{output_dir} already holds shards ({existing[0]}); collect into '
          'an empty directory.')
    shard_manifest.write_json(settings_path, settings)
    return
  try:
    with tf.io.gfile.GFile(settings_path) as f:
      saved = json.load(f)
  except ValueError as e:
    raise ValueError(f'Cannot read {settings_path} ({e}); delete the '
                     'directory to collect afresh.') from e
  if saved != settings:
    changed = ', '.join(f'{key}: {saved.get(key)!r} then, {value!r} now'
                        for key, value in settings.items()
                        if saved.get(key) != value)
    raise ValueError(
        f'{output_dir} holds an unfinished collection with other settings '
        f'({changed}). Run it again with its settings to resume, or collect '
        'into an empty directory.')
