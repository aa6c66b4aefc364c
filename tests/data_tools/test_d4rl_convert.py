"""Tests for data_tools.d4rl_convert: D4RL arrays -> demonstration shards."""
import json
import os
import subprocess
import sys

import h5py
import numpy as np
import pytest
import tensorflow as tf
from tf_agents.trajectories import time_step as ts

from data_tools import d4rl_convert
from data_tools import dataset_statistics
from data_tools import demos

FIRST, MID, LAST = ts.StepType.FIRST, ts.StepType.MID, ts.StepType.LAST


def _synthetic(num_rows: int = 10, terminal_rows=(3,), timeout_rows=(7,)):
  """D4RL-layout arrays: row i observes [i, 10 i, 100 i] and acts [i, -i]."""
  rows = np.arange(num_rows, dtype=np.float64)
  terminals = np.zeros(num_rows, bool)
  terminals[list(terminal_rows)] = True
  timeouts = np.zeros(num_rows, bool)
  timeouts[list(timeout_rows)] = True
  return {
      'observations': np.stack([rows, 10 * rows, 100 * rows], axis=1),
      'actions': np.stack([rows, -rows], axis=1).astype(np.float32) / 10,
      'rewards': rows[:, None] * 0.5,  # d4rl files may store [N, 1]
      'terminals': terminals,
      'timeouts': timeouts,
  }


def _write_hdf5(path, arrays) -> str:
  with h5py.File(path, 'w') as f:
    for key, value in arrays.items():
      f[key] = value
    f['infos/goal'] = np.zeros(3)  # extra D4RL keys are ignored
  return str(path)


def test_splits_on_terminals_and_timeouts_and_keeps_trailing_rows(tmp_path):
  hdf5 = _write_hdf5(tmp_path / 'toy.hdf5', _synthetic())
  paths = d4rl_convert.convert_hdf5(hdf5, str(tmp_path / 'out'), 'toy-v0')

  assert [os.path.basename(p) for p in paths] == ['toy-v0_0.tfrecord']
  episodes = demos.load_episodes(paths)
  # Terminal at row 3, timeout at row 7, rows 8-9 after the last flag.
  assert [len(e.step_type) for e in episodes] == [4, 4, 2]
  np.testing.assert_array_equal(episodes[0].step_type, [FIRST, MID, MID, LAST])
  np.testing.assert_array_equal(episodes[0].next_step_type,
                                [MID, MID, LAST, FIRST])
  np.testing.assert_array_equal(episodes[2].step_type, [FIRST, LAST])
  # Discount 0 only on a terminal row; a timeout is a truncation.
  np.testing.assert_array_equal(episodes[0].discount, [1, 1, 1, 0])
  np.testing.assert_array_equal(episodes[1].discount, [1, 1, 1, 1])
  np.testing.assert_allclose(episodes[1].observation[0], [4, 40, 400])
  np.testing.assert_allclose(episodes[1].action[-1], [0.7, -0.7])
  np.testing.assert_allclose(episodes[1].reward, [2.0, 2.5, 3.0, 3.5])
  assert episodes[0].observation.dtype == np.float32


def test_writes_statistics_of_all_rows(tmp_path):
  out = str(tmp_path / 'out')
  d4rl_convert.convert(_synthetic(), out, 'toy-v0')

  with open(os.path.join(out, dataset_statistics.STATISTICS_FILENAME)) as f:
    saved = json.load(f)
  assert saved['num_episodes'] == 3 and saved['num_steps'] == 10
  assert list(saved['shards']) == ['toy-v0_0.tfrecord']
  np.testing.assert_allclose(saved['action']['min'], [0.0, -0.9], atol=1e-6)
  np.testing.assert_allclose(saved['action']['max'], [0.9, 0.0], atol=1e-6)
  np.testing.assert_allclose(saved['observation']['mean'], [4.5, 45, 450],
                             rtol=1e-6)


def test_one_row_episode_is_skipped(tmp_path):
  arrays = _synthetic(terminal_rows=(3, 4), timeout_rows=(9,))
  paths = d4rl_convert.convert(arrays, str(tmp_path / 'out'), 'toy-v0')
  assert [len(e.step_type) for e in demos.load_episodes(paths)] == [4, 5]


@pytest.mark.parametrize('task', ['door-human-v0', 'kitchen-complete-v0'])
def test_reference_episodes_round_trip(anchor_dir, tmp_path, task):
  """Converting the reference data's rows back reproduces its steps exactly."""
  shard = str(anchor_dir / task / f'{task}_0.tfrecord')
  reference = demos.load_episodes([shard])
  rows = {field: np.concatenate([getattr(e, field) for e in reference])
          for field in ('observation', 'action', 'reward', 'discount')}
  ends = np.cumsum([len(e.step_type) for e in reference]) - 1
  terminals = np.zeros(len(rows['reward']), bool)
  terminals[ends] = rows['discount'][ends] == 0
  timeouts = np.zeros(len(rows['reward']), bool)
  timeouts[ends] = ~terminals[ends]
  hdf5 = _write_hdf5(tmp_path / 'data.hdf5', {
      'observations': rows['observation'], 'actions': rows['action'],
      'rewards': rows['reward'], 'terminals': terminals, 'timeouts': timeouts})

  paths = d4rl_convert.convert_hdf5(hdf5, str(tmp_path / 'out'), task)

  converted = demos.load_episodes(paths)
  assert len(converted) == len(reference)
  for got, want in zip(converted, reference):
    tf.nest.map_structure(np.testing.assert_array_equal, got, want)


def test_missing_key_names_the_file_and_key(tmp_path):
  arrays = _synthetic()
  del arrays['timeouts']
  hdf5 = _write_hdf5(tmp_path / 'old.hdf5', arrays)
  with pytest.raises(demos.DemoFileError,
                     match=r'old\.hdf5 has no .timeouts.'):
    d4rl_convert.convert_hdf5(hdf5, str(tmp_path / 'out'))


def test_mismatched_length_names_the_file_and_key(tmp_path):
  arrays = _synthetic()
  arrays['rewards'] = arrays['rewards'][:-1]
  hdf5 = _write_hdf5(tmp_path / 'short.hdf5', arrays)
  with pytest.raises(demos.DemoFileError,
                     match=r'short\.hdf5: .rewards. has shape \(9,\), but '
                     r'observations has 10 rows'):
    d4rl_convert.convert_hdf5(hdf5, str(tmp_path / 'out'))


def test_dict_errors_name_the_key():
  arrays = _synthetic()
  arrays['terminals'] = arrays['terminals'][:5]
  with pytest.raises(demos.DemoFileError,
                     match=r'.terminals. has shape \(5,\)'):
    d4rl_convert.convert(arrays, '/nonexistent', 'toy-v0')
  del arrays['actions']
  with pytest.raises(demos.DemoFileError, match=r'has no .actions.'):
    d4rl_convert.convert(arrays, '/nonexistent', 'toy-v0')


def test_missing_file_is_named(tmp_path):
  missing = str(tmp_path / 'nope.hdf5')
  with pytest.raises(demos.DemoFileError, match=r'nope\.hdf5 does not exist'):
    d4rl_convert.convert_hdf5(missing, str(tmp_path / 'out'))


def test_refuses_a_directory_that_holds_shards(tmp_path):
  out = str(tmp_path / 'out')
  d4rl_convert.convert(_synthetic(), out, 'toy-v0')
  with pytest.raises(FileExistsError, match='already holds shards'):
    d4rl_convert.convert(_synthetic(), out, 'toy-v0')


def test_command_line_converts_a_file(tmp_path):
  hdf5 = _write_hdf5(tmp_path / 'door-v0_demos_clipped.hdf5', _synthetic())
  out = tmp_path / 'out'
  completed = subprocess.run(
      [sys.executable, '-m', 'data_tools.d4rl_convert', f'--input={hdf5}',
       f'--output_dir={out}'], capture_output=True, text=True, check=False,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'))
  assert completed.returncode == 0, completed.stderr
  assert 'wrote 3 episodes (10 steps)' in completed.stdout
  assert (out / 'door-v0_demos_clipped_0.tfrecord.spec').exists()
  assert (out / dataset_statistics.STATISTICS_FILENAME).exists()
