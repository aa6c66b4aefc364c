"""bench.scale: its timing arithmetic, flags, record and evaluation section."""
import json

from absl import app
import pytest

from bench import results_tables
from bench import scale


def test_interval_rate_leaves_out_the_first_chunk_of_steps():
  # 50 steps in 5 s (tracing), then 150 steps in 3 s: 50 steps/s after it.
  output = ('step 50/200 | 10.0 steps/s | loss 1 | eval success -\n'
            'step 100/200 | 12.5 steps/s | loss 1 | eval success -\n'
            'step 200/200 | 25.0 steps/s | loss 1 | eval success 0.5\n')
  assert scale._interval_rate(output) == pytest.approx(50.0)


@pytest.mark.parametrize('argv, message', [
    (['--sections=replay,scaling'], r"unknown \['scaling'\]"),
    (['--sections=replay', '--readers=1,0'], 'positive counts'),
])
def test_bad_flags_are_refused(argv, message):
  with pytest.raises(app.UsageError, match=message):
    scale.main(argv)


def test_a_record_name_the_tables_cannot_render_is_refused():
  with pytest.raises(app.UsageError, match="start with 'scale'"):
    scale.main(['--sections=eval', '--summary=/tmp/loopback.json'])


def test_evaluation_section_times_both_worker_counts_and_compares_results(
    tmp_path):
  summary = tmp_path / 'scale_eval.json'
  output = tmp_path / 'bench.md'
  scale.main(['--sections=eval', '--eval_episodes=2',
              f'--work_dir={tmp_path / "work"}', f'--output={output}',
              f'--summary={summary}'])
  record = json.loads(summary.read_text())
  assert set(record) >= {'command', 'commit', 'machine', 'eval'}
  assert 'replay' not in record and 'parity' not in record
  rows = record['eval']['rows']
  assert [row['eval_workers'] for row in rows] == [1, 2]
  assert all(row['seconds'] > 0 for row in rows)
  assert rows[0]['result'] == rows[1]['result']  # workers change no result
  section = output.read_text()
  assert results_tables.marked_table('scale_eval', record) in section
  assert 'Results identical: yes' in section


def test_every_section_of_a_record_is_rendered_with_its_ratios():
  record = dict(
      command='python -m bench.scale', commit='0' * 40, date='2026-12-07',
      machine=dict(cores=2, cpu_model='CPU', gpus=[]), load_average=2.0,
      replay=dict(batch_size=512, seconds=5.0, rows=[
          dict(server=scale.EMBEDDED, readers=1, rates=[80.0]),
          dict(server=scale.LOOPBACK, readers=2, rates=[10.0, 30.0])]),
      train={'config': 'c.gin', 'first_step': 50, 'last_step': 400,
             'steps_per_sec': {'default (one process)': 20.0,
                               'mirrored': 25.0}},
      parity=dict(config='c.gin', eval_episodes=100, rows=[
          dict(strategy='default', success_rate=0.89, seconds=359.0),
          dict(strategy='mirrored', success_rate=0.92, seconds=403.0)]))
  table = results_tables.marked_table('scale', record)
  assert f'| {scale.LOOPBACK} | 2 | 20.0 | 40.0 | 0.50 |' in table
  assert '| mirrored | 25.0 | 1.25 |' in table
  assert 'Gap: 3 points' in table
  assert 'Evaluating' not in table  # the eval section was not run
