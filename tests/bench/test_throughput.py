"""`python -m bench.throughput --quick` runs, and its FLOP counts hold."""
import json
import os
import pathlib
import subprocess
import sys

import gin
import pytest

from bench import throughput

_REPO = pathlib.Path(__file__).resolve().parents[2]  # bench/ is not installed
EXISTING = '# Benchmarks\n\n## Quickstart\n\nquickstart table\n'


def test_pushing_dfo_step_counts_the_reference_network_and_batch():
  config = throughput.CONFIGS['pushing_dfo']
  rows = 512 * 257
  per_row = 2 * (22 * 128 + 16 * 128 * 128 + 128)  # projection, 16, head
  assert config.matmul_rows == rows
  assert throughput.train_step_flops(config) == 3 * rows * per_row
  # About the 200 GFLOP per step.
  assert 200e9 < throughput.train_step_flops(config) < 215e9
  # The reference's 3 DFO iterations: 3 scorings of the 16384 samples.
  assert throughput.action_flops(config, 'dfo') == 16384 * 3 * per_row


def test_langevin_step_counts_chains_and_the_double_backward():
  config = throughput.CONFIGS['particle_langevin']
  per_row = 2 * (18 * 256 + 2 * 256 * 256 + 256)
  chains = 512 * 8 * (2 * 100 + 1) * per_row
  assert throughput.train_step_flops(config) == chains + 6 * 512 * 9 * per_row
  assert throughput.action_flops(config, 'langevin') == 512 * 201 * per_row


def test_explicit_network_is_counted_once_per_observation():
  config = throughput.CONFIGS['pushing_mse']
  per_observation = 2 * (20 * 128 + 16 * 128 * 128 + 128 * 2)
  assert throughput.train_step_flops(config) == 3 * 512 * per_observation
  assert throughput.action_flops(config, 'regression') == per_observation


def test_pixel_step_counts_the_encoder_per_observation_and_head_per_action():
  config = throughput.CONFIGS['pushing_pixels_dfo']
  gin.clear_config()
  gin.parse_config_file(config.gin_file)  # filters (16, 32, 64), stride 2
  try:
    flops = throughput.pixel_network_flops(config)
    step = throughput.train_step_flops(config)
  finally:
    gin.clear_config()
  # Two stacked RGB frames, 90 x 120: 45 x 60 after the stride, then pooled.
  encoder = 2 * 9 * (45 * 60 * 16 * 6 + 22 * 30 * 32 * 16 + 11 * 15 * 64 * 32)
  head = 2 * ((2 * 64 + 2 * 2 + 2) * 256 + 4 * 256 * 256 + 256)
  assert flops == throughput.NetworkFlops(encoder, head)
  assert step == 3 * 64 * encoder + 3 * 64 * 65 * head


def test_unknown_configs_are_rejected_with_the_known_ones(capsys):
  with pytest.raises(SystemExit):
    throughput.parse_args(['--configs=pushing_dfo,pixels'])
  assert 'pushing_mse' in capsys.readouterr().err


def test_quick_run_measures_every_configuration(tmp_path):
  output, json_dir = tmp_path / 'bench.md', tmp_path / 'json'
  output.write_text(EXISTING)
  completed = subprocess.run(
      [sys.executable, '-m', 'bench.throughput', '--quick',
       '--variants=float32', f'--output={output}',
       f'--json_dir={json_dir}'],
      cwd=_REPO, capture_output=True, text=True, timeout=900,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'))
  assert completed.returncode == 0, completed.stderr[-3000:]
  markdown = output.read_text()
  assert markdown.startswith(EXISTING)
  assert '## Throughput' in markdown and 'Quick smoke run' in markdown
  for name in throughput.CONFIGS:
    result = json.loads((json_dir / f'{name}.json').read_text())
    assert [variant['variant'] for variant in result['variants']] == [
        'float32']
    assert result['replay_batches_per_sec'] > 0
    assert result['peak_rss_mib'] > 0
    for variant in result['variants']:
      assert variant['steps_per_sec']['median'] > 0
      assert variant['roofline_gflops'] > 0
      assert 0 <= variant['data_wait_fraction'] < 1
      assert all(action['p99_ms'] >= action['p50_ms'] > 0
                 for action in variant['actions'])
      assert f'| {name} | {variant["variant"]} |' in markdown
    assert result['variants'][0]['actions']
