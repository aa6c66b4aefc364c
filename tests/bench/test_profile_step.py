"""`python -m bench.profile_step` profiles real train steps."""
import json
import re

from absl import app
import pytest

from bench import profile_step


def test_profile_of_particle_steps_is_dominated_by_matrix_products(tmp_path):
  output = tmp_path / 'bench.md'
  output.write_text('# Benchmarks\n\n## Other\n\nkeep me\n')
  summary = tmp_path / 'profile_step_particle.json'
  profile_step.main(['--config=particle_dfo', '--steps=2', '--top=5',
                     f'--output={output}', f'--summary={summary}'])
  record = json.loads(summary.read_text())
  assert record['config'] == 'particle_dfo' and record['steps'] == 2
  assert record['wall_ms_per_step'] > 0 and record['roofline_gflops'] > 0
  markdown = output.read_text()
  assert '## Other\n\nkeep me' in markdown
  section = markdown[markdown.index(profile_step.HEADING):]
  rows = re.findall(r'^\| (\S+) \| ([\d.]+) \| ([\d.]+)% \|$', section,
                    re.MULTILINE)
  assert len(rows) == 5, section
  shares = [float(share) for _, _, share in rows]
  assert shares == sorted(shares, reverse=True)
  assert 'MatMul' in rows[0][0]  # a 128-wide ResNet on 16640 rows
  assert re.search(r'other op types \| [\d.]+ \| [\d.]+% \|', section)
  match = re.search(r'Matrix-product kernels take (\d+)%', section)
  assert match and int(match.group(1)) > 50, section


def test_rejects_a_non_positive_step_count():
  with pytest.raises(app.UsageError, match='steps'):
    profile_step.parse_args(['--steps=0'])


def test_rejects_a_record_name_the_tables_cannot_render():
  with pytest.raises(app.UsageError, match="start with 'profile_step'"):
    profile_step.parse_args(['--summary=/tmp/ops.json'])
