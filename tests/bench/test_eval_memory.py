"""`python -m bench.eval_memory` on a real (tiny) particle run."""
import json
import os

from absl import app
import pytest

from bench import eval_memory
from bench import results_tables


def test_waves_record_peak_memory_and_leave_the_results_unchanged(
    tiny_run, tmp_path):
  summary = tmp_path / 'eval_memory_tiny.json'
  output = tmp_path / 'bench.md'
  eval_memory.main([f'--policy_dir={os.path.join(tiny_run, "policy")}',
                    '--task=PARTICLE', '--episodes=3', '--waves=0,1',
                    f'--output={output}', f'--summary={summary}'])
  record = json.loads(summary.read_text())
  rows = record['rows']
  assert [row['max_live_episodes'] for row in rows] == [None, 1]
  assert all(row['peak_rss_bytes'] > 100 * 2**20 for row in rows)  # TF alone
  assert rows[0]['success_rate'] == rows[1]['success_rate']
  assert rows[0]['avg_return'] == rows[1]['avg_return']
  section = output.read_text()
  assert results_tables.marked_table('eval_memory_tiny', record) in section
  assert 'Results identical: yes' in section


@pytest.mark.parametrize('argv, message', [
    (['--waves=0,-2'], 'counts >= 0'),
    (['--policy_dir=/nonexistent/policy'], 'no such directory'),
])
def test_bad_flags_are_refused(argv, message, tmp_path):
  defaults = {'--policy_dir': str(tmp_path), '--task': 'PARTICLE',
              '--summary': str(tmp_path / 'eval_memory.json')}
  for arg in argv:
    defaults[arg.split('=')[0]] = arg.split('=', 1)[1]
  with pytest.raises(app.UsageError, match=message):
    eval_memory.main([f'{flag}={value}' for flag, value in defaults.items()])
