"""A tiny real run of `python -m bench.replay_throughput`: real collection,
a real embedded Reverb server, both readers."""
import json
import os
import pathlib
import subprocess
import sys

from bench import results_tables

_REPO = pathlib.Path(__file__).resolve().parents[2]  # bench/ is not installed


def test_tiny_run_records_both_readers_and_writes_its_section(tmp_path):
  summary = tmp_path / 'replay_throughput_tiny.json'
  output = tmp_path / 'bench.md'
  completed = subprocess.run(
      [sys.executable, '-m', 'bench.replay_throughput', '--num_episodes=4',
       '--batch_size=8', '--num_batches=3', '--repeats=2',
       f'--output={output}', f'--summary={summary}'],
      cwd=_REPO, capture_output=True, text=True, timeout=600,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'))
  assert completed.returncode == 0, completed.stderr[-3000:]
  record = json.loads(summary.read_text())
  assert record['command'].startswith('python -m bench.replay_throughput')
  assert [reader['name'] for reader in record['readers']] == [
      'DemonstrationReplay.as_dataset', 'ReverbReplayBuffer.as_dataset']
  assert all(reader['batches_per_sec'] > 0 for reader in record['readers'])
  assert record['windows'] > 0 and record['batch_size'] == 8
  section = output.read_text()
  assert section.count('## Replay throughput') == 1
  assert results_tables.marked_table('replay_throughput_tiny', record) in section


def test_a_record_name_the_tables_cannot_render_is_refused(tmp_path):
  completed = subprocess.run(
      [sys.executable, '-m', 'bench.replay_throughput',
       f'--summary={tmp_path / "readers.json"}'],
      cwd=_REPO, capture_output=True, text=True, timeout=300,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'))
  assert completed.returncode != 0
  assert "must start with 'replay_throughput'" in completed.stderr
