"""A tiny real run of `python -m bench.time_to_success` on 2D particle."""
import json
import os
import pathlib
import subprocess
import sys

import pytest
import tensorflow as tf

from bench import time_to_success

_REPO = pathlib.Path(__file__).resolve().parents[2]  # bench/ is not installed
TINY_BUDGET = [
    'train_eval.batch_size = 32',
    'train_eval.log_interval = 10',
    'IbcPolicy.num_action_samples = 64',
]


def test_evaluations_are_read_from_the_eval_events(tmp_path):
  writer = tf.summary.create_file_writer(str(tmp_path))
  with writer.as_default():
    for step, rate in ((100, 0.2), (200, 0.95)):
      tf.summary.scalar('eval/avg_return', 1.0, step=step)
      tf.summary.scalar(time_to_success.SUCCESS_TAG, rate, step=step)
  writer.flush()
  evaluations = time_to_success.read_evaluations(str(tmp_path), start_time=0.0)
  assert [e.step for e in evaluations] == [100, 200]
  assert [e.success_rate for e in evaluations] == pytest.approx([0.2, 0.95])
  assert all(e.wall_seconds > 0 for e in evaluations)


def test_ninety_of_a_hundred_episodes_reach_a_threshold_of_ninety_percent(
    tmp_path):
  writer = tf.summary.create_file_writer(str(tmp_path))
  with writer.as_default():
    tf.summary.scalar(time_to_success.SUCCESS_TAG, 90 / 100, step=1)
  writer.flush()
  (evaluation,) = time_to_success.read_evaluations(str(tmp_path), 0.0)
  assert evaluation.success_rate < 0.9  # float32's 0.9 is below it
  assert time_to_success.reaches(evaluation.success_rate, 0.9)
  assert not time_to_success.reaches(89 / 100, 0.9)


@pytest.mark.bfloat16
def test_tiny_run_stops_at_the_first_evaluation_reaching_the_threshold(
    tmp_path):
  command = [sys.executable, '-m', 'bench.time_to_success',
             '--gin_file=gin_configs/particle/ibc_dfo.gin',
             '--num_episodes=20', '--threshold=0.0', '--eval_episodes=2',
             '--eval_interval=10', '--max_steps=40',
             f'--work_dir={tmp_path / "work"}',
             f'--output={tmp_path / "bench.md"}',
             f'--summary={tmp_path / "time_to_success_tiny.json"}']
  command += [f'--gin_bindings={binding}' for binding in TINY_BUDGET]
  completed = subprocess.run(
      command, cwd=_REPO, capture_output=True, text=True, timeout=900,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'))
  assert completed.returncode == 0, completed.stderr[-3000:]
  record = json.loads((tmp_path / 'time_to_success_tiny.json').read_text())
  assert record['task'] == 'PARTICLE' and record['config'] == 'ibc_dfo'
  assert record['threshold'] == 0.0 and record['eval_episodes'] == 2
  assert len(record['results']) == 2
  for precision, result in zip(('float32', 'bfloat16'), record['results']):
    assert result['precision'] == precision
    assert result['reached'] and result['step'] == 10
    assert result['wall_seconds'] > 0
    operative = (tmp_path / 'work' / 'runs' / 'PARTICLE' / 'ibc_dfo' /
                 precision / 'operative_config.gin').read_text()
    assert f"MLPEBM.compute_dtype = '{precision}'" in operative
  markdown = (tmp_path / 'bench.md').read_text()
  assert ('## Time to success: PARTICLE ibc_dfo\n\n'
          '<!-- result: time_to_success_tiny -->') in markdown
  assert 'not a measurement' in markdown
