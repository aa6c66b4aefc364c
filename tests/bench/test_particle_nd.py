"""A tiny real run of `python -m bench.particle_nd`."""
import json
import os
import pathlib
import re
import subprocess
import sys

from absl import app
import pytest

from bench import particle_nd
from bench import results_tables

_REPO = pathlib.Path(__file__).resolve().parents[2]  # bench/ is not installed

TINY_BUDGET = [
    'train_eval.eval_episodes = 3',
    'train_eval.eval_interval = 20',
    'train_eval.batch_size = 32',
  ]
EXISTING = '# Benchmarks\n\n## Other\n\nkeep me\n'


@pytest.fixture(scope='module')
def study(tmp_path_factory):
  """MSE on 2D and 3D particle, 20 steps each (the harness, not IBC, is tested)."""
  tmp_path = tmp_path_factory.mktemp('nd')
  (tmp_path / 'bench.md').write_text(EXISTING)
  command = [sys.executable, '-m', 'bench.particle_nd', '--dims=2,3',
             '--configs=gin_configs/particle/mse.gin',
             '--num_iterations=20', '--num_episodes=20',
             f'--work_dir={tmp_path / "work"}',
             f'--output={tmp_path / "bench.md"}',
             f'--summary={tmp_path / "particle_nd.json"}']
  command += [f'--gin_bindings={binding}' for binding in TINY_BUDGET]
  _run_study(command)
  return tmp_path, (tmp_path / 'bench.md').read_text(), command


def _run_study(command):
  completed = subprocess.run(
      command, cwd=_REPO, capture_output=True, text=True, timeout=600,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'))
  assert completed.returncode == 0, completed.stderr[-3000:]
  return completed.stdout


def test_section_has_best_and_last_5_success_per_method_and_dimension(study):
  _, markdown, _ = study
  assert markdown.startswith(EXISTING.rstrip('\n'))
  assert markdown.count(particle_nd.HEADING) == 1
  assert ('| method | figure | 2D | 3D | train steps | '
          'train steps/s per dimension |' in markdown)
  for figure in ('best', 'last-5 mean'):
    assert re.search(
        rf'^\| mse \| {figure} \| \d\.\d\d ± 0\.00 \| \d\.\d\d ± 0\.00 '
        r'\| 20 \| \d+\.\d, \d+\.\d \|$', markdown, re.MULTILINE), markdown
  assert 'validation-chosen' not in markdown  # no run has validation


def test_record_holds_each_runs_evaluations_and_renders_the_section(study):
  tmp_path, markdown, _ = study
  record = json.loads((tmp_path / 'particle_nd.json').read_text())
  assert record['command'].startswith('python -m bench.particle_nd --dims=2,3')
  assert record['dims'] == [2, 3] and record['seeds'] == [0]
  (method,) = record['methods']
  assert method['name'] == 'mse' and method['train_steps'] == 20
  for dim, cell in zip((2, 3), method['cells']):
    (run,) = cell['runs']
    history = [entry['success_rate'] for entry in run['eval_history']]
    assert len(history) == 1  # one evaluation, at step 20
    assert run['success_rate']['best'] == max(history)
    assert cell['dim'] == dim
    assert cell['summary']['best']['mean'] == max(history)
    assert run['chosen'] == history[-1] and run['validated_step'] is None
  table, rows = results_tables.RENDERERS['particle_nd'](record)
  assert table in markdown
  assert [row.result for row in rows] == ['Particle N-D (Fig. 6), mse']
  assert rows[0].paper == results_tables.PAPER_FIGURE_6['mse']


def test_each_dimension_trains_on_its_own_dataset_and_budget(study):
  tmp_path, _, _ = study
  for dim in (2, 3):
    spec = (tmp_path / 'work' / 'data' / f'particle_{dim}d' /
            'PARTICLE_0.tfrecord.spec')
    assert spec.is_file()
    operative = (tmp_path / 'work' / 'runs' / f'{dim}d' / 'mse' /
                 'operative_config.gin').read_text()
    assert f'ParticleEnv.n_dim = {dim}' in operative
    assert 'train_eval.num_iterations = 20' in operative


def test_rerun_reuses_finished_runs_and_retrains_when_settings_change(study):
  tmp_path, markdown, command = study
  logs = {dim: tmp_path / 'work' / 'runs' / f'{dim}d' / 'mse' / 'train.log'
          for dim in (2, 3)}
  written = {dim: log.stat().st_mtime_ns for dim, log in logs.items()}
  output = _run_study(command)
  assert output.count('reusing the finished run') == 2, output
  assert {dim: log.stat().st_mtime_ns for dim, log in logs.items()} == written
  assert (tmp_path / 'bench.md').read_text() == markdown
  output = _run_study([arg for arg in command if arg != '--dims=2,3']
                      + ['--dims=2', '--gin_bindings=train_eval.seed = 1'])
  assert 'reusing the finished run' not in output, output
  assert logs[2].stat().st_mtime_ns != written[2]


def test_an_unfinished_run_resumes_where_it_stopped(tmp_path):
  root_dir = tmp_path / 'run'
  gin_file, dataset = 'gin_configs/particle/mse.gin', str(tmp_path / 'data')
  command = [sys.executable, '-m', 'data_tools.collect', '--task=PARTICLE',
             '--num_episodes=10', f'--output_dir={dataset}']
  subprocess.run(command, cwd=_REPO, check=True, capture_output=True,
                 env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'))
  bindings = [*TINY_BUDGET, 'train_eval.num_iterations = 20',
              'train_eval.log_interval = 10']
  first = particle_nd.train_or_reuse(gin_file, dataset, str(root_dir),
                                     bindings)
  settings_path = root_dir / 'study_settings.json'
  # As if the study had been stopped before the run's end.
  settings = json.loads(settings_path.read_text())
  assert settings.pop('finished') is True
  settings_path.write_text(json.dumps(dict(settings, finished=False)))
  log_before = (root_dir / 'train.log').read_text()
  assert 'step 10/20' in log_before
  again = particle_nd.train_or_reuse(gin_file, dataset, str(root_dir),
                                     bindings)
  log = (root_dir / 'train.log').read_text()
  assert log.startswith(log_before)  # kept, and added to
  assert 'step 10/20' not in log[len(log_before):]  # restored, not retrained
  assert again['train_steps'] == first['train_steps'] == 20
  assert json.loads(settings_path.read_text())['finished'] is True


def test_rejects_non_integer_dimensions():
  with pytest.raises(app.UsageError, match='--dims must be comma-separated'):
    particle_nd.parse_args(['--dims=2,x',
                            '--configs=gin_configs/particle/mse.gin'])


def test_rejects_method_iterations_of_unknown_methods_or_bad_steps():
  for value, message in (('ibc=30', 'unknown'), ('mse=0', 'NAME=STEPS'),
                         ('mse', 'NAME=STEPS')):
    with pytest.raises(app.UsageError, match=message):
      particle_nd.parse_args(['--configs=gin_configs/particle/mse.gin',
                              f'--method_iterations={value}'])


def test_dart_data_several_seeds_own_budget_and_the_chart(tmp_path):
  chart = tmp_path / 'nd.png'
  command = [sys.executable, '-m', 'bench.particle_nd', '--dims=2',
             '--configs=gin_configs/particle/mse.gin', '--num_iterations=20',
             '--method_iterations=mse=30',
             '--variants=lr: train_eval.learning_rate = 0.0005',
             '--num_episodes=20', '--dart_noise=0.02', '--seeds=0,1',
             f'--chart={chart}', f'--work_dir={tmp_path / "work"}',
             f'--output={tmp_path / "bench.md"}',
             f'--summary={tmp_path / "particle_nd.json"}']
  command += [f'--gin_bindings={binding}' for binding in TINY_BUDGET]
  _run_study(command)
  markdown = (tmp_path / 'bench.md').read_text()
  for method in ('mse', r'mse\+lr'):
    assert re.search(
        rf'^\| {method} \| best \| \d\.\d\d ± \d\.\d\d \| 30 \| \d+\.\d \|$',
        markdown, re.MULTILINE), markdown
  record = json.loads((tmp_path / 'particle_nd.json').read_text())
  assert [(method['name'], method['train_steps'], method['gin_bindings'])
          for method in record['methods']] == [
              ('mse', 30, []),
              ('mse+lr', 30, ['train_eval.learning_rate = 0.0005'])]
  assert [len(cell['runs']) for method in record['methods']
          for cell in method['cells']] == [2, 2]
  assert 'DART noise 0.02 in all' in markdown
  data = tmp_path / 'work' / 'data' / 'particle_2d_dart0.02'
  assert '"action_noise": 0.0141' in (data / 'collection.json').read_text()
  runs = tmp_path / 'work' / 'runs' / '2d'
  assert 'train_eval.seed = 1' in (runs / 'mse_seed1' /
                                   'operative_config.gin').read_text()
  operative = (runs / 'mse' / 'operative_config.gin').read_text()
  assert 'train_eval.seed = 1' not in operative
  assert 'train_eval.num_iterations = 30' in operative
  assert 'learning_rate = 0.0005' not in operative
  variant = (runs / 'mse+lr_seed1' / 'operative_config.gin').read_text()
  assert 'train_eval.learning_rate = 0.0005' in variant
  assert 'train_eval.num_iterations = 30' in variant
  assert chart.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_variants_train_the_first_config_again_with_their_bindings():
  args = particle_nd.parse_args([
      '--configs=gin_configs/particle/ibc_dfo.gin,gin_configs/particle/mse.gin',
      '--variants=wide: MLPEBM.width = 256',
      '--variants=lr: train_eval.learning_rate = 3e-4; MLPEBM.depth = 3',
      '--method_iterations=mse=30000,ibc_dfo+wide=9000'])
  assert args.names == ['ibc_dfo', 'mse', 'ibc_dfo+wide', 'ibc_dfo+lr']
  assert args.method_configs['ibc_dfo+lr'].endswith('particle/ibc_dfo.gin')
  assert args.method_bindings['ibc_dfo+lr'] == [
      'train_eval.learning_rate = 3e-4', 'MLPEBM.depth = 3']
  assert args.method_bindings['ibc_dfo'] == []
  assert args.iterations == {'ibc_dfo': 6000, 'mse': 30000,
                             'ibc_dfo+wide': 9000, 'ibc_dfo+lr': 6000}


def test_rejects_variants_without_a_label_or_bindings_or_twice():
  for variants, message in ((['x y: MLPEBM.width = 8'], 'LABEL'),
                            (['wide:'], 'LABEL'),
                            (['wide: MLPEBM.width = 8'] * 2, 'twice')):
    with pytest.raises(app.UsageError, match=message):
      particle_nd.parse_args(['--configs=gin_configs/particle/mse.gin']
                             + [f'--variants={v}' for v in variants])


def test_runs_with_validation_count_their_best_validated_policy():
  validated = {'success_rate': 0.2, 'best': {'step': 4000,
                                             'success_rate': 0.9}}
  final_only = {'success_rate': 0.5}
  assert particle_nd.success([validated, final_only]) == pytest.approx(
      (0.7, 0.2))
