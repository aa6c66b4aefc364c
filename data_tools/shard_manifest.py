"""A dataset's manifest and the checks of its shards' bytes.

`manifest.json` records, per shard, its episodes, steps, bytes and SHA-256.
Loading checks each shard against it, so a shard cut on a record or episode
boundary, changed or lost is an error rather than a smaller dataset; and it
walks each shard's record framing, which catches a cut shard without one.
"""

import hashlib
import json
import os
import struct
from typing import Any, Sequence

import tensorflow as tf
from tf_agents.trajectories import trajectory


class DemoFileError(ValueError):
  """A demonstration file is missing, empty, corrupt or has the wrong spec."""


MANIFEST_FILENAME = 'manifest.json'
_MANIFEST_FORMAT = 1
_HASH_CHUNK_BYTES = 1 << 22
_RECORD_HEADER_BYTES = 12  # uint64 length + uint32 masked crc of the length
_RECORD_FOOTER_BYTES = 4  # uint32 masked crc of the data


def check_shards_listed(dataset_dir: str, paths: Sequence[str]) -> None:
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


def check_counts(
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


def check_against_manifest(path: str) -> None:
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


def check_record_framing(path: str) -> None:
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


def write_manifest(dataset_dir: str, shards: dict[str, dict[str, Any]]) -> None:
  """Writes `manifest.json`.

  Args:
    dataset_dir: the directory of the shards.
    shards: per shard base name, its episodes, steps, bytes and sha256.
  """
  write_json(os.path.join(dataset_dir, MANIFEST_FILENAME),
             dict(format=_MANIFEST_FORMAT, shards=shards))
