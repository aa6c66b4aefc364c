r"""Converts a D4RL dataset into demonstration shards of this library.

  python -m data_tools.d4rl_convert --input=door-v0_demos_clipped.hdf5 \
      --output_dir=data/door-human-v0 --task=door-human-v0

The input is D4RL's HDF5 layout (what `env.get_dataset()` reads): row i holds
`observations[i]`, the `actions[i]` taken there, the `rewards[i]` received
for it, and `terminals[i]` / `timeouts[i]` marking the last row of an episode
(ended by the task / cut by the time limit). `convert` takes the dict that
`get_dataset()` returns, for users who have d4rl.

Each row becomes one `Trajectory` step, as in the reference data (which
TF-Agents' D4RL converter wrote): FIRST, MID..., LAST by position in the
episode, discount 0 on a terminal row and 1 otherwise, observations and
actions as float32. Rows after the last terminal or timeout form a final
episode, as there. The shard `<task>_0.tfrecord` (+ `.spec`),
`manifest.json` and `statistics.json` are written to the output directory.
"""
import os
from typing import Iterator, Mapping, Optional, Sequence

from absl import app
from absl import flags
from absl import logging
import numpy as np
import tensorflow as tf
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import time_step as ts
from tf_agents.trajectories import trajectory

from data_tools import dataset_statistics
from data_tools import demos

REQUIRED_KEYS = ('observations', 'actions', 'rewards', 'terminals', 'timeouts')
_PER_ROW_KEYS = ('rewards', 'terminals', 'timeouts')  # [N] or [N, 1]


def read_hdf5(path: str) -> dict[str, np.ndarray]:
  """Reads the arrays of `REQUIRED_KEYS` from a D4RL HDF5 file.

  Raises:
    DemoFileError: naming the file, if it is missing, unreadable or lacks a key.
  """
  import h5py  # pylint: disable=g-import-not-at-top
  if not tf.io.gfile.exists(path):
    raise demos.DemoFileError(f'D4RL dataset {path} does not exist.')
  try:
    with h5py.File(path, 'r') as f:
      missing = [key for key in REQUIRED_KEYS if key not in f]
      if missing:
        raise demos.DemoFileError(
            f'D4RL dataset {path} has no {missing[0]!r} array; a D4RL file '
            f'holds {", ".join(REQUIRED_KEYS)} (it has {", ".join(f)}).')
      return {key: f[key][()] for key in REQUIRED_KEYS}
  except OSError as e:
    raise demos.DemoFileError(f'Cannot read D4RL dataset {path}: {e}') from e


def _checked(dataset: Mapping[str, np.ndarray],
             source: str) -> dict[str, np.ndarray]:
  """Returns the required arrays, per-row flags flattened to [N].

  Raises:
    DemoFileError: naming `source` and the key, if a key is missing or its
      number of rows differs from the observations'.
  """
  missing = [key for key in REQUIRED_KEYS if key not in dataset]
  if missing:
    raise demos.DemoFileError(
        f'{source} has no {missing[0]!r}; a D4RL dataset holds '
        f'{", ".join(REQUIRED_KEYS)}.')
  arrays = {key: np.asarray(dataset[key]) for key in REQUIRED_KEYS}
  for key in ('observations', 'actions'):
    if arrays[key].ndim < 2 or not len(arrays[key]):
      raise demos.DemoFileError(
          f'{source}: {key!r} has shape {arrays[key].shape}; expected one '
          'vector per row [N, ...] with N > 0.')
  num_rows = len(arrays['observations'])
  for key in REQUIRED_KEYS:
    if key in _PER_ROW_KEYS and arrays[key].shape[1:] == (1,):
      arrays[key] = arrays[key][:, 0]
    per_row_ok = key not in _PER_ROW_KEYS or arrays[key].ndim == 1
    if len(arrays[key]) != num_rows or not per_row_ok:
      raise demos.DemoFileError(
          f'{source}: {key!r} has shape {arrays[key].shape}, but '
          f'observations has {num_rows} rows; every array needs one entry per '
          'row.')
  return arrays


def episode_bounds(terminals: np.ndarray,
                   timeouts: np.ndarray) -> list[tuple[int, int]]:
  """Returns the [start, end) rows of each episode; a flag ends its episode."""
  ends = list(np.flatnonzero(np.logical_or(terminals, timeouts)) + 1)
  if not ends or ends[-1] != len(terminals):
    ends.append(len(terminals))  # the rows after the last flag
  return list(zip([0] + ends[:-1], ends))


def trajectory_spec(observation_shape: Sequence[int],
                    action_shape: Sequence[int]) -> trajectory.Trajectory:
  """The shards' spec: the reference data's dtypes for these shapes."""
  scalar_int = tensor_spec.TensorSpec((), tf.int32)
  scalar_float = tensor_spec.TensorSpec((), tf.float32)
  return trajectory.Trajectory(
      step_type=scalar_int,
      observation=tensor_spec.TensorSpec(observation_shape, tf.float32),
      action=tensor_spec.TensorSpec(action_shape, tf.float32),
      policy_info=(),
      next_step_type=scalar_int,
      reward=scalar_float,
      discount=scalar_float)


def _episode(arrays: Mapping[str, np.ndarray], start: int,
             end: int) -> list[trajectory.Trajectory]:
  """The rows [start, end) as steps FIRST, MID..., LAST."""
  length = end - start
  step_types = np.full(length, ts.StepType.MID, np.int32)
  step_types[0], step_types[-1] = ts.StepType.FIRST, ts.StepType.LAST
  next_step_types = np.append(step_types[1:], np.int32(ts.StepType.FIRST))
  return [
      trajectory.Trajectory(
          step_type=step_types[i],
          observation=arrays['observations'][start + i],
          action=arrays['actions'][start + i],
          policy_info=(),
          next_step_type=next_step_types[i],
          reward=arrays['rewards'][start + i],
          discount=np.float32(1.0 - float(arrays['terminals'][start + i])))
      for i in range(length)
  ]


def _episodes(arrays: Mapping[str, np.ndarray],
              source: str) -> Iterator[list[trajectory.Trajectory]]:
  for start, end in episode_bounds(arrays['terminals'], arrays['timeouts']):
    if end - start < 2:
      logging.warning('Skipping the one-row episode at row %d of %s: an '
                      'episode needs a FIRST and a LAST step.', start, source)
      continue
    yield _episode(arrays, start, end)


def convert(dataset: Mapping[str, np.ndarray],
            output_dir: str,
            name: str,
            source: str = 'The D4RL dataset') -> list[str]:
  """Writes a D4RL dataset dict as a shard plus manifest and statistics.

  Args:
    dataset: arrays keyed as D4RL's `get_dataset()` returns them.
    output_dir: a directory holding no shards yet.
    name: shard name prefix, e.g. the task 'door-human-v0'.
    source: how error messages name the dataset (e.g. its file).

  Returns:
    The shard paths.

  Raises:
    DemoFileError: if a key is missing or the arrays' lengths differ.
    FileExistsError: if `output_dir` already holds shards.
  """
  arrays = _checked(dataset, source)
  tf.io.gfile.makedirs(output_dir)
  existing = tf.io.gfile.glob(os.path.join(output_dir, demos.SHARD_PATTERN))
  if existing:
    raise FileExistsError(f'{output_dir} already holds shards ({existing[0]}); '
                          'convert into an empty directory.')
  path = os.path.join(output_dir, f'{name}_0.tfrecord')
  spec = trajectory_spec(arrays['observations'].shape[1:],
                         arrays['actions'].shape[1:])
  demos.write_episodes(path, spec, _episodes(arrays, source))
  stats = demos.finish_dataset(output_dir, [path])
  logging.info('Wrote %d episodes (%d steps) to %s, with its manifest and '
               'statistics.', stats.num_episodes, stats.num_steps, path)
  return [path]


def convert_hdf5(path: str, output_dir: str,
                 name: Optional[str] = None) -> list[str]:
  """Converts a D4RL HDF5 file; `name` defaults to the file's base name."""
  name = name or os.path.splitext(os.path.basename(path))[0]
  return convert(read_hdf5(path), output_dir, name,
                 source=f'D4RL dataset {path}')


def _define_flags() -> None:
  """Command-line flags, defined only when run as a program so that importing
  `d4rl_convert` never clashes with another program's flags."""
  flags.DEFINE_string('input', None, 'D4RL HDF5 file.')
  flags.DEFINE_string('output_dir', None,
                      'Empty directory for the shard and statistics.')
  flags.DEFINE_string('task', None, 'Names the shard <task>_0.tfrecord, e.g. '
                      'door-human-v0 (default: the input file name).')
  flags.mark_flags_as_required(['input', 'output_dir'])


def main(argv: Sequence[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError('Too many command-line arguments.')
  args = flags.FLAGS
  paths = convert_hdf5(args.input, args.output_dir, args.task)
  stats = dataset_statistics.DatasetStatistics.load(args.output_dir)
  print(f'd4rl_convert: wrote {stats.num_episodes} episodes '
        f'({stats.num_steps} steps) to {paths[0]}.', flush=True)


if __name__ == '__main__':
  _define_flags()
  app.run(main)
