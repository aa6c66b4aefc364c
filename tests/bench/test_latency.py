"""`python -m bench.latency` on a tiny real run."""
import json
import os
import pathlib
import re
import subprocess
import sys

from absl import app
import pytest

from bench import latency

_REPO = pathlib.Path(__file__).resolve().parents[2]  # bench/ is not installed


def test_table_times_each_variant_against_the_runs_own_policy(tiny_run,
                                                              tmp_path):
  output = tmp_path / 'bench.md'
  output.write_text('# Benchmarks\n\n## Other\n\nkeep me\n')
  completed = subprocess.run(
      [sys.executable, '-m', 'bench.latency', f'--run=tiny={tiny_run}',
       '--variant=warm=IbcPolicy.warm_start_samples = 16; '
       'IbcPolicy.num_action_samples = 32',
       '--variant=langevin=IbcPolicy.sampler = @langevin_maximize; '
       'langevin_maximize.num_iterations = 5; '
       'langevin_maximize.stop_below = 0.01',
       '--calls=6', '--rounds=2', '--episodes=3',
       f'--work_dir={tmp_path / "work"}', f'--output={output}',
       f'--summary={tmp_path / "latency_tiny.json"}'],
      cwd=_REPO, capture_output=True, text=True, timeout=600,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'))
  assert completed.returncode == 0, completed.stderr[-3000:]
  number = r'\d+\.\d'
  rows = {variant: re.search(
      rf'^\| tiny \| {variant} \| .+ \| ({number}) \| ({number}) \| '
      rf'(\d+\.\d\d) \| (\d\.\d\d) \| ([+-]\d\.\d\d) \|$',
      completed.stdout, re.MULTILINE) for variant in
      ('today', 'warm', 'langevin')}
  assert all(rows.values()), completed.stdout
  assert rows['today'].group(3) == '1.00'
  assert rows['today'].group(5) == '+0.00'
  for row in rows.values():
    assert float(row.group(1)) <= float(row.group(2))  # p50 <= p99
  markdown = output.read_text()
  assert '## Other\n\nkeep me' in markdown
  assert '## Acting latency: tiny\n\n<!-- result: latency_tiny -->' in markdown
  record = json.loads((tmp_path / 'latency_tiny.json').read_text())
  assert [result['variant'] for result in record['results']] == [
      'today', 'warm', 'langevin']
  assert record['results'][1]['bindings'] == [
      'IbcPolicy.warm_start_samples = 16', 'IbcPolicy.num_action_samples = 32']
  assert record['calls'] == 6 and record['episodes'] == 3
  assert '`IbcPolicy.warm_start_samples = 16`' in markdown
  for variant in ('today', 'warm', 'langevin'):
    assert (tmp_path / 'work' / 'tiny' / variant / 'saved_model.pb').exists()


@pytest.mark.parametrize('text', ['nobindings', 'today=IbcPolicy.x = 1',
                                  '=IbcPolicy.x = 1', 'name= ; '])
def test_malformed_variant_is_refused(text):
  with pytest.raises(app.UsageError, match='--variant'):
    latency.parse_variant(text)


def test_run_that_is_not_a_training_directory_is_refused(tmp_path):
  with pytest.raises(app.UsageError, match='not a training run'):
    latency.parse_args([f'--run=x={tmp_path}'])
