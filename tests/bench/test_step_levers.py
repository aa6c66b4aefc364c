"""`python -m bench.step_levers` times real train steps in interleaved rounds."""
import json
import re

from absl import app
import pytest

from bench import step_levers

GIN_FILE = 'gin_configs/particle/ibc_dfo.gin'


def test_a_lever_with_an_eighth_of_the_rows_shows_its_speed_up_over_the_config(
    tmp_path):
  output = tmp_path / 'bench.md'
  output.write_text('# Benchmarks\n\n## Other\n\nkeep me\n')
  summary = tmp_path / 'step_levers_particle.json'
  step_levers.main([
      f'--gin_file={GIN_FILE}', '--rounds=3',
      '--variant=small_batch=train_eval.batch_size = 32',
      '--other_gin_files=gin_configs/particle/mse.gin',
      f'--output={output}', f'--summary={summary}'])
  record = json.loads(summary.read_text())
  cases = {case['name']: case for case in record['cases']}
  assert list(cases) == [step_levers.BASELINE, 'small_batch', 'mse.gin']
  assert cases['small_batch']['batch_size'] * 8 == cases[
      step_levers.BASELINE]['batch_size']
  for case in cases.values():
    assert len(case['seconds_per_step']) == 3
    assert len(case['speedup_per_round']) == 3
  assert cases[step_levers.BASELINE]['speedup_per_round'] == [1.0] * 3
  # An eighth of the rows: the speed-up is large whatever the load.
  assert min(cases['small_batch']['speedup_per_round']) > 1.5, cases
  markdown = output.read_text()
  assert '## Other\n\nkeep me' in markdown
  section = markdown[markdown.index(step_levers.heading(GIN_FILE)):]
  assert re.search(r'^\| small_batch \| `gin_configs/particle/ibc_dfo.gin` '
                   r'\| `train_eval.batch_size = 32` \| 32 \| [\d.]+ \| '
                   r'[\d.]+ \| [\d.]+ \| [\d.]+x \| [\d.]+-[\d.]+ \|$',
                   section, re.MULTILINE), section


@pytest.mark.parametrize('argv, message', [
    (['--variant=as configured=MLPEBM.width = 8'], '--variant'),
    (['--variant=nobindings'], '--variant'),
    (['--other_gin_files=missing.gin'], 'missing.gin is not a gin file'),
    (['--variant=a=MLPEBM.width = 8', '--variant=a=MLPEBM.depth = 2'],
     'its own name'),
    (['--summary=/tmp/levers.json'], "start with 'step_levers'"),
])
def test_malformed_command_lines_are_refused_naming_the_flag(argv, message):
  with pytest.raises(app.UsageError, match=message):
    step_levers.parse_args(argv)
