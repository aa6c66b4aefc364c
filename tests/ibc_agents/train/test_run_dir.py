"""The run's JSON files survive kills: atomic writes, recovery from the previous."""
import json

import pytest

from ibc_agents.train import run_dir


def test_write_leaves_no_temporary_file_and_keeps_the_previous_version(
    tmp_path):
  path = str(tmp_path / 'results.json')
  run_dir.write_json(path, {'step': 1}, keep_previous=True)
  run_dir.write_json(path, {'step': 2}, keep_previous=True)
  assert sorted(p.name for p in tmp_path.iterdir()) == [
      'results.json', 'results.json.previous']
  assert json.loads((tmp_path / 'results.json').read_text()) == {'step': 2}
  assert json.loads(
      (tmp_path / 'results.json.previous').read_text()) == {'step': 1}


def test_damaged_file_is_recovered_from_its_previous_version(tmp_path):
  path = str(tmp_path / 'results.json')
  run_dir.write_json(path, {'eval_history': [1, 2]}, keep_previous=True)
  run_dir.write_json(path, {'eval_history': [1, 2, 3]}, keep_previous=True)
  (tmp_path / 'results.json').write_text('{"eval_history": [1, 2, 3')  # cut
  assert run_dir.read_json(path) == {'eval_history': [1, 2]}
  assert json.loads((tmp_path / 'results.json').read_text()) == {
      'eval_history': [1, 2]}


def test_damaged_file_without_a_readable_previous_version_is_named(tmp_path):
  (tmp_path / 'results.json').write_text('{"eval_')
  with pytest.raises(ValueError, match=r'Cannot read .*results.json .* no '
                     r'readable previous version'):
    run_dir.read_json(str(tmp_path / 'results.json'))


def test_missing_file_reads_as_empty(tmp_path):
  assert run_dir.read_json(str(tmp_path / 'results.json')) == {}
