"""`python -m ibc_agents.evaluate` reproduces training's evaluation."""
import os
import subprocess
import sys

import pytest

from ibc_agents.train import evaluation

_ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2')
EPISODES = 10


@pytest.fixture(scope='module')
def mse_run(easy_particle, train_easy_particle, tmp_path_factory):
  """A short MSE training: its greedy policy is deterministic."""
  root_dir = str(tmp_path_factory.mktemp('mse_run'))
  results = train_easy_particle(
      'gin_configs/particle/mse.gin', root_dir,
      'train_eval.num_iterations = 300', 'train_eval.eval_interval = 300',
      f'train_eval.eval_episodes = {EPISODES}')
  return easy_particle, root_dir, results


def _evaluate(*flags):
  return subprocess.run([sys.executable, '-m', 'ibc_agents.evaluate', *flags],
                        capture_output=True, text=True, env=_ENV, check=False)


@pytest.mark.parametrize('workers', [1, 2, 3])
def test_evaluating_the_exported_policy_prints_training_results(
    mse_run, tmp_path, workers):
  """In one process, or with the environments in worker processes."""
  easy_particle, root_dir, results = mse_run
  done = _evaluate(
      f'--policy_dir={os.path.join(root_dir, "policy")}', '--task=PARTICLE',
      f'--episodes={EPISODES}', f'--video_dir={tmp_path}',
      f'--workers={workers}',
      *[f'--gin_bindings={binding}' for binding in easy_particle.bindings])
  assert done.returncode == 0, done.stderr
  assert evaluation.format_result(results) in done.stdout
  assert (tmp_path / 'seed_1000000.gif').stat().st_size > 0


@pytest.mark.parametrize('flags, message', [
    (['--policy_dir=/nonexistent', '--task=PARTICLE'],
     'No SavedModel in --policy_dir=/nonexistent'),
    (['--policy_dir=/nonexistent', '--task=PARTICEL'],
     "Unknown --task 'PARTICEL'; registered: "),
    (['--policy_dir=/nonexistent', '--task=PARTICLE', '--workers=0'],
     '--workers must be >= 1, got 0'),
])
def test_bad_flags_are_refused_saying_why(flags, message):
  done = _evaluate(*flags)
  assert done.returncode != 0
  assert message in done.stderr
