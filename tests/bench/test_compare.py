"""A tiny real run of `python -m bench.compare`."""
import os
import pathlib
import re
import subprocess
import sys

from PIL import Image
import pytest

_REPO = pathlib.Path(__file__).resolve().parents[2]  # bench/ is not installed

TINY_BUDGET = [
    'train_eval.num_iterations = 20',
    'train_eval.eval_episodes = 3',
    'train_eval.eval_interval = 20',
    'train_eval.batch_size = 32',
    'IbcPolicy.num_action_samples = 64',
]
EXISTING = ('# Benchmarks\n\n## Quickstart\n\nquickstart table\n\n'
            '## Other\n\nkeep me\n')


def _row_pattern(method: str) -> str:
  """A table row: mean ± std, per-seed rate, 20 steps, steps/s, latency."""
  return (rf'^\| {method} \| \d\.\d{{3}} ± \d\.\d{{3}} \| \d\.\d\d \| 20 \| '
          r'\d+\.\d \| \d+\.\d\d \|$')


def _compare(tmp_path: pathlib.Path, *flags: str) -> str:
  """Runs the command line on 20 demonstrations with the tiny budget."""
  command = [sys.executable, '-m', 'bench.compare', '--task=PARTICLE', *flags,
             '--seeds=1', '--num_episodes=20',
             f'--work_dir={tmp_path / "work"}',
             f'--output={tmp_path / "bench.md"}',
             f'--plot={tmp_path / "chart.png"}']
  command += [f'--gin_bindings={binding}' for binding in TINY_BUDGET]
  completed = subprocess.run(
      command, cwd=_REPO, capture_output=True, text=True, timeout=600,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'))
  assert completed.returncode == 0, completed.stderr[-3000:]
  return completed.stdout


@pytest.fixture(scope='module')
def first_run(tmp_path_factory):
  """Compares IBC-DFO and MSE, 1 seed each, into a file with other sections."""
  tmp_path = tmp_path_factory.mktemp('compare')
  (tmp_path / 'bench.md').write_text(EXISTING)
  stdout = _compare(tmp_path, '--configs=gin_configs/particle/ibc_dfo.gin,'
                    'gin_configs/particle/mse.gin')
  return tmp_path, (tmp_path / 'bench.md').read_text(), stdout


def test_section_lists_both_methods_with_numbers(first_run):
  _, markdown, stdout = first_run
  assert markdown.startswith(EXISTING.rstrip('\n'))
  assert markdown.count('## Comparison: PARTICLE') == 1
  assert re.search(r'^Machine: \d+ cores, .+\. Date: \d{4}-\d\d-\d\d\.',
                   markdown, re.MULTILINE), markdown
  for method in ('ibc_dfo', 'mse'):
    assert re.search(_row_pattern(method), markdown, re.MULTILINE), markdown
    assert re.search(_row_pattern(method), stdout, re.MULTILINE), stdout
  assert re.search(r'^Relative to mse .*: ibc_dfo trains at \d+\.\d\d× its '
                   r'steps/s and takes \d+\.\d× its latency per action\.$',
                   markdown, re.MULTILINE), markdown
  assert '![success rate per method](chart.png)' in markdown


def test_chart_is_a_png(first_run):
  tmp_path, _, _ = first_run
  with Image.open(tmp_path / 'chart.png') as image:
    assert image.format == 'PNG'
    assert image.width >= 480 and image.height >= 300


def test_rerun_replaces_the_section_and_reuses_the_dataset(first_run):
  tmp_path, _, _ = first_run
  stdout = _compare(tmp_path, '--configs=gin_configs/particle/ibc_dfo.gin',
                    '--baseline=')
  markdown = (tmp_path / 'bench.md').read_text()
  assert 'reusing the dataset' in stdout
  assert markdown.startswith(EXISTING.rstrip('\n'))
  assert markdown.count('## Comparison: PARTICLE') == 1
  assert re.search(_row_pattern('ibc_dfo'), markdown, re.MULTILINE), markdown
  assert '| mse |' not in markdown and 'Relative to' not in markdown


def test_dataset_is_reused_when_only_training_bindings_change(tmp_path,
                                                              capsys):
  from bench import compare  # pylint: disable=g-import-not-at-top
  data_dir = str(tmp_path / 'data')
  task_bindings = ['import environments.particle.particle_env',
                   'ParticleEnv.n_dim = 3']
  compare.prepare_dataset('PARTICLE', 4, data_dir, [],
                          [*task_bindings, 'train_eval.eval_interval = 10'])
  capsys.readouterr()
  compare.prepare_dataset('PARTICLE', 4, data_dir, [],
                          [*task_bindings, 'train_eval.eval_interval = 20'])
  assert 'reusing the dataset' in capsys.readouterr().out
  compare.prepare_dataset('PARTICLE', 4, data_dir, [],
                          [task_bindings[0], 'ParticleEnv.n_dim = 2'])
  assert 'reusing the dataset' not in capsys.readouterr().out
