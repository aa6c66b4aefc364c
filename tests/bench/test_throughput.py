"""`python -m bench.throughput --quick` runs every configuration."""
import json
import os
import pathlib
import subprocess
import sys

from absl import app
import pytest

from bench import throughput
from bench import throughput_configs

_REPO = pathlib.Path(__file__).resolve().parents[2]  # bench/ is not installed
EXISTING = '# Benchmarks\n\n## Quickstart\n\nquickstart table\n'


def test_unknown_configs_are_rejected_with_the_known_ones():
  with pytest.raises(app.UsageError, match=r"unknown \['pixels'\]; known: .*pushing_mse"):
    throughput.parse_args(['--configs=pushing_dfo,pixels'])


def test_a_record_name_other_than_throughput_or_throughput_label_is_refused():
  with pytest.raises(app.UsageError, match='throughput_LABEL.json'):
    throughput.parse_args(['--summary=/tmp/speed.json'])
  assert throughput.parse_args(
      ['--summary=/tmp/throughput_pixels.json']).record_name == (
          'throughput_pixels')


def test_quick_run_measures_every_configuration(tmp_path):
  output, summary = tmp_path / 'bench.md', tmp_path / 'throughput_smoke.json'
  output.write_text(EXISTING)
  completed = subprocess.run(
      [sys.executable, '-m', 'bench.throughput', '--quick',
       '--variants=float32,float32+memory', f'--output={output}',
       f'--summary={summary}'],
      cwd=_REPO, capture_output=True, text=True, timeout=900,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'))
  assert completed.returncode == 0, completed.stderr[-3000:]
  markdown = output.read_text()
  assert markdown.startswith(EXISTING)
  assert '## Throughput: smoke\n\n<!-- result: throughput_smoke -->' in markdown
  assert 'Quick smoke run' in markdown
  record = json.loads(summary.read_text())
  assert record['command'].startswith('python -m bench.throughput --quick')
  assert record['section'] == '## Throughput: smoke' and record['commit']
  results = {result['config']: result for result in record['results']}
  assert list(results) == list(throughput_configs.CONFIG_FILES)
  for name in throughput_configs.CONFIG_FILES:
    result = results[name]
    assert [variant['variant'] for variant in result['variants']] == [
        'float32', 'float32+memory']
    assert result['replay_batches_per_sec'] > 0
    assert result['memory_batches_per_sec'] > 0
    assert result['peak_rss_mib'] > 0
    for variant in result['variants']:
      assert variant['steps_per_sec']['median'] > 0
      assert variant['roofline_gflops'] > 0
      assert 0 <= variant['data_wait_fraction'] < 1
      assert all(action['p99_ms'] >= action['p50_ms'] > 0
                 for action in variant['actions'])
      assert f'| {name} | {variant["variant"]} |' in markdown
    assert result['variants'][0]['actions']
