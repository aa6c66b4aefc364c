"""`python -m bench.push_fidelity`: real PUSH episodes, the original's
recordings replayed, one record."""
import json

from absl import app
import pytest

from bench import push_fidelity
from bench import results_tables


def test_tiny_run_records_oracle_medians_and_replay_departures(tmp_path):
  summary = tmp_path / 'push_fidelity_tiny.json'
  output = tmp_path / 'bench.md'
  push_fidelity.main(['--episodes=2', f'--output={output}',
                      f'--summary={summary}'])
  record = json.loads(summary.read_text())
  assert record['oracle']['episodes'] == 2
  assert record['oracle']['success_rate'] == 1.0  # the oracle solves PUSH
  assert 0.01 < record['oracle']['move_per_step_m'] < 0.03
  assert record['recorded']['episode_length'] > 0
  assert record['replay']['episodes'] == 20
  assert 0 < record['replay']['worst_early_departure_m'] < 0.015
  section = output.read_text()
  assert results_tables.marked_table('push_fidelity_tiny', record) in section


def test_a_missing_recording_is_refused(tmp_path):
  with pytest.raises(app.UsageError, match='no such file'):
    push_fidelity.main([f'--recording={tmp_path / "none.npz"}',
                        f'--summary={tmp_path / "push_fidelity.json"}'])
