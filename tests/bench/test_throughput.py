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


def test_quick_run_measures_every_configuration(tmp_path):
  output, json_dir = tmp_path / 'bench.md', tmp_path / 'json'
  output.write_text(EXISTING)
  completed = subprocess.run(
      [sys.executable, '-m', 'bench.throughput', '--quick',
       '--variants=float32,float32+memory', f'--output={output}',
       f'--json_dir={json_dir}'],
      cwd=_REPO, capture_output=True, text=True, timeout=900,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'))
  assert completed.returncode == 0, completed.stderr[-3000:]
  markdown = output.read_text()
  assert markdown.startswith(EXISTING)
  assert '## Throughput' in markdown and 'Quick smoke run' in markdown
  for name in throughput_configs.CONFIG_FILES:
    result = json.loads((json_dir / f'{name}.json').read_text())
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
