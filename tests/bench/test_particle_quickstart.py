"""A tiny real run of `python -m bench.particle_quickstart` over two seeds."""
import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

from bench import particle_quickstart

_REPO = pathlib.Path(__file__).resolve().parents[2]  # bench/ is not installed
TINY_BUDGET = [
    'train_eval.num_iterations = 20',
    'train_eval.eval_interval = 20',
    'train_eval.eval_episodes = 2',
    'train_eval.batch_size = 32',
    'train_eval.log_interval = 10',
    'train_eval.eval_plot_fn = None',
    'IbcPolicy.num_action_samples = 64',
]


@pytest.fixture(scope='module')
def two_seeds(tmp_path_factory):
  """The quickstart's config, 10 demonstrations and 20 steps, seeds 3 and 4."""
  tmp_path = tmp_path_factory.mktemp('quickstart')
  command = [sys.executable, '-m', 'bench.particle_quickstart', '--seeds=3,4',
             '--num_episodes=10', '--num_workers=1',
             f'--work_dir={tmp_path / "work"}',
             f'--output={tmp_path / "quickstart.json"}']
  command += [f'--gin_bindings={binding}' for binding in TINY_BUDGET]
  completed = subprocess.run(
      command, cwd=_REPO, capture_output=True, text=True, timeout=600,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'))
  assert completed.returncode == 0, completed.stderr[-3000:]
  record = json.loads((tmp_path / 'quickstart.json').read_text())
  return tmp_path, record, completed.stdout


def test_each_run_collects_and_trains_with_its_own_seed(two_seeds):
  tmp_path, record, _ = two_seeds
  assert record['seeds'] == [3, 4]
  shards = []
  for seed in (3, 4):
    run_dir = tmp_path / 'work' / f'seed{seed}'
    collection = json.loads((run_dir / 'data' / 'collection.json').read_text())
    assert collection['seed'] == seed
    assert collection['num_episodes'] == 10
    operative = (run_dir / 'run' / 'operative_config.gin').read_text()
    assert re.search(rf'^train_eval\.seed = {seed}$', operative, re.MULTILINE)
    shards.append((run_dir / 'data' / 'PARTICLE_0.tfrecord').read_bytes())
  assert shards[0] != shards[1]


def test_record_holds_per_run_figures_and_their_spread(two_seeds):
  _, record, _ = two_seeds
  commit = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=_REPO, check=True,
                          capture_output=True, text=True).stdout.strip()
  assert record['commit'] == commit
  assert '--seeds=3,4' in record['command']
  assert record['machine']['cores'] == os.cpu_count()
  assert record['machine']['cpu_model']
  assert record['gin_file'] == 'gin_configs/particle/quickstart.gin'
  rates = []
  for run in record['runs']:
    assert run['train_steps'] == 20
    assert run['eval_episodes'] == 2
    assert run['train_seconds'] > 0 and run['collect_seconds'] > 0
    assert run['steps_per_sec'] > 0
    assert run['last_line'].startswith(
        f'success_rate={run["success_rate"]:.3f} ')
    rates.append(run['success_rate'])
  assert record['spread']['success_rate'] == pytest.approx(
      dict(min=min(rates), mean=sum(rates) / 2, max=max(rates)))


def test_stdout_has_a_row_per_seed_and_the_spread(two_seeds):
  _, record, stdout = two_seeds
  for seed in (3, 4):
    assert re.search(rf'^\| {seed} \| \d\.\d\d \| 2 \| 20 \| ', stdout,
                     re.MULTILINE), stdout
  rates = record['spread']['success_rate']
  assert (f'success rate over 2 runs: min {rates["min"]:.2f}, '
          f'mean {rates["mean"]:.3f}, max {rates["max"]:.2f}') in stdout


def test_spread_is_min_mean_max():
  assert particle_quickstart.spread([0.9, 1.0, 0.95]) == pytest.approx(
      dict(min=0.9, mean=0.95, max=1.0))
