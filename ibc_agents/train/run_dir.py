"""The run directory: its layout, lock, leftovers, and JSON files.

A run's JSON files (results, statistics) are written through a temporary
file and a rename, so a kill never leaves one half-written; the results
keep their previous version beside them, from which a damaged file is
recovered instead of discarding the evaluation history.
"""
import contextlib
import fcntl
import json
import os
from typing import Any, Dict, Iterator

from absl import logging
import tensorflow as tf

POLICY_DIR = 'policy'  # the last evaluated policy, a SavedModel
BEST_POLICY_DIR = 'best_policy'  # the best on the validation episodes
PLOTS_DIR = 'plots'
VIDEOS_DIR = 'videos'
RESULTS_FILE = 'results.json'
OPERATIVE_CONFIG_FILE = 'operative_config.gin'
STATISTICS_FILE = 'dataset_statistics.json'  # the normalizers' statistics
LOCK_FILE = 'run.lock'  # held by the run using the directory
PREVIOUS_SUFFIX = '.previous'  # the version a file had before its last write
_PARTIAL_SUFFIX = '.partial'


def write_json(path: str, content: Any, keep_previous: bool = False) -> None:
  """Writes `content` as JSON through a temporary file and a rename.

  With `keep_previous`, the file's current version is first copied to
  `path + PREVIOUS_SUFFIX`, from which `read_json` recovers.
  """
  temp_path = path + _PARTIAL_SUFFIX
  with tf.io.gfile.GFile(temp_path, 'w') as f:
    json.dump(content, f, indent=2)
  if keep_previous and tf.io.gfile.exists(path):
    tf.io.gfile.copy(path, path + PREVIOUS_SUFFIX, overwrite=True)
  tf.io.gfile.rename(temp_path, path, overwrite=True)


def _load(path: str) -> Any:
  with tf.io.gfile.GFile(path) as f:
    return json.load(f)


def read_json(path: str) -> Dict[str, Any]:
  """The JSON object at `path`; {} if there is none.

  A file that does not parse is replaced by its previous version, with a
  warning, when that version parses.

  Raises:
    ValueError: naming the file, if neither version parses.
  """
  if not tf.io.gfile.exists(path):
    return {}
  try:
    return _load(path)
  except ValueError as error:
    previous = path + PREVIOUS_SUFFIX
    try:
      content = _load(previous) if tf.io.gfile.exists(previous) else None
    except ValueError:
      content = None
    if content is None:
      raise ValueError(
          f'Cannot read {path} ({error}), and it has no readable previous '
          f'version ({previous}). Move it away to start its history '
          'afresh.') from error
    logging.warning('%s is damaged (%s); recovered its previous version, %s.',
                    path, error, previous)
    tf.io.gfile.copy(previous, path, overwrite=True)
    return content


@contextlib.contextmanager
def exclusive(root_dir: str) -> Iterator[None]:
  """Holds `root_dir/run.lock` for the run, so that no second run mixes in.

  The lock is the operating system's (`flock`), so the lock of a killed run
  goes with its process and does not block the next run. Directories that
  are not local (`gs://...`) are not locked.

  Raises:
    RuntimeError: naming the directory and the holder's process id, if
      another run holds the lock.
  """
  tf.io.gfile.makedirs(root_dir)
  if '://' in root_dir:  # e.g. gs://: no operating-system lock there
    logging.warning('%s is not local: it is not locked against a second '
                    'run.', root_dir)
    yield
    return
  path = os.path.join(root_dir, LOCK_FILE)
  with open(path, 'a+') as lock:
    try:
      fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      lock.seek(0)
      holder = lock.read().strip() or 'unknown'
      raise RuntimeError(
          f'{root_dir} is in use by another training run (process {holder}); '
          'wait for it to end or choose another --root_dir.') from None
    lock.seek(0)
    lock.truncate()
    lock.write(str(os.getpid()))
    lock.flush()
    try:
      yield
    finally:
      fcntl.flock(lock, fcntl.LOCK_UN)


def remove_temporary_files(root_dir: str) -> None:
  """Removes what a killed run left half-written: TensorFlow's `*_temp` dirs.

  Checkpoints and SavedModels are written into `<prefix>_temp/` and then
  moved into place, so these hold nothing a later run can use.
  """
  leftovers = [os.path.join(parent, name)
               for parent, dirnames, _ in tf.io.gfile.walk(root_dir)
               for name in dirnames if name.endswith('_temp')]
  for path in leftovers:
    logging.warning('Removing %s, left half-written by an earlier run.', path)
    tf.io.gfile.rmtree(path)
