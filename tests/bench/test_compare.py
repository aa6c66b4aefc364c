"""A tiny real run of `python -m bench.compare`."""
import json
import os
import pathlib
import re
import subprocess
import sys

import gin
from PIL import Image
import pytest

from bench import results_tables
import environments
from ibc_agents.train import train_eval

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
  """A table row: best, last-5 mean and spread (mean ± std), per seed,
  steps, steps/s, wall minutes, latency."""
  cell = r'\d\.\d{3} ± \d\.\d{3}'
  per_seed = r'\d\.\d\d / \d\.\d\d / \d\.\d\d'
  return (rf'^\| {method} \| {cell} \| {cell} \| {cell} \| {per_seed} \| '
          r'20 \| \d+\.\d \| \d+\.\d \| \d+\.\d\d \|$')


def _compare(tmp_path: pathlib.Path, *flags: str, task: str = 'PARTICLE',
             num_episodes: int = 20, budget=TINY_BUDGET) -> str:
  """Runs the command line on `num_episodes` demonstrations, tiny budget."""
  command = [sys.executable, '-m', 'bench.compare', f'--task={task}', *flags,
             '--seeds=1', f'--num_episodes={num_episodes}',
             f'--work_dir={tmp_path / "work"}',
             f'--output={tmp_path / "bench.md"}',
             f'--plot={tmp_path / "chart.png"}',
             f'--curve_plot={tmp_path / "curves.png"}',
             f'--summary={tmp_path / "compare_run.json"}',
             '--oracle_episodes=2']
  command += [f'--gin_bindings={binding}' for binding in budget]
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


def _record_block(tmp_path: pathlib.Path) -> str:
  """The record's table as bench.results_tables renders it, with markers."""
  record = json.loads((tmp_path / 'compare_run.json').read_text())
  table, _ = results_tables.RENDERERS['compare_'](record)
  return f'<!-- result: compare_run -->\n{table}\n<!-- /result: compare_run -->'


def test_section_lists_both_methods_with_numbers(first_run):
  tmp_path, markdown, stdout = first_run
  assert markdown.startswith(EXISTING.rstrip('\n'))
  assert markdown.count('## Comparison: PARTICLE') == 1
  assert _record_block(tmp_path) in markdown
  for method in ('ibc_dfo', 'mse'):
    assert f'| {method} |' in _record_block(tmp_path)
    assert re.search(_row_pattern(method), stdout, re.MULTILINE), stdout
  assert re.search(r'^Relative to mse .*: ibc_dfo trains at \d+\.\d\d× its '
                   r'steps/s and takes \d+\.\d× its latency per action\.$',
                   markdown, re.MULTILINE), markdown
  assert '![success rate against train step, each seed](curves.png)' in markdown
  assert '![final success rate per method](chart.png)' in markdown


@pytest.mark.parametrize('chart', ['chart.png', 'curves.png'])
def test_charts_are_pngs(first_run, chart):
  tmp_path, _, _ = first_run
  with Image.open(tmp_path / chart) as image:
    assert image.format == 'PNG'
    assert image.width >= 480 and image.height >= 300


def test_summary_json_holds_provenance_and_figures_of_each_seed(first_run):
  tmp_path, _, _ = first_run
  summary = json.loads((tmp_path / 'compare_run.json').read_text())
  assert summary['section'] == '## Comparison: PARTICLE'
  assert summary['command'].startswith('python -m bench.compare --task=PARTICLE')
  assert re.fullmatch(r'[0-9a-f]{40}', summary['commit'])
  assert summary['machine']['cores'] >= 1 and summary['seeds'] == [0]
  assert summary['evaluation']['goal_tolerance_m'] is None
  oracle = summary['dataset']['oracle']
  assert oracle['episodes'] == 2 and 0.0 <= oracle['success_rate'] <= 1.0
  assert [method['name'] for method in summary['methods']] == ['ibc_dfo',
                                                               'mse']
  for method in summary['methods']:
    (run,) = method['runs']
    rates = [entry['success_rate'] for entry in run['eval_history']]
    assert run['success_rate']['best'] == max(rates)
    assert run['train_steps'] == 20 and run['wall_seconds'] > 0
    assert method['summary']['success_rate']['best'] == {
        'mean': max(rates), 'std': 0.0}


def test_rerun_replaces_the_section_and_reuses_the_dataset(first_run):
  tmp_path, _, _ = first_run
  stdout = _compare(tmp_path, '--configs=gin_configs/particle/ibc_dfo.gin',
                    '--baseline=')
  markdown = (tmp_path / 'bench.md').read_text()
  assert 'reusing the dataset' in stdout
  assert markdown.startswith(EXISTING.rstrip('\n'))
  assert markdown.count('## Comparison: PARTICLE') == 1
  assert _record_block(tmp_path) in markdown
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


def test_dart_demonstrations_go_beside_the_clean_ones_not_over_them():
  from bench import compare  # pylint: disable=g-import-not-at-top
  assert compare.dataset_dir('/w', 'PUSH', 0.0) == '/w/data/PUSH'
  assert compare.dataset_dir('/w', 'PUSH', 0.05) == '/w/data/PUSH_dart0.05'


def test_goal_tolerance_is_bound_for_evaluation_not_collection(tmp_path):
  """A real PUSH comparison at 0.02 m; rerun with --resume, it reads the run."""
  budget = ['train_eval.num_iterations = 4', 'train_eval.eval_interval = 2',
            'train_eval.eval_episodes = 2', 'train_eval.batch_size = 16',
            'train_eval.eval_video_fn = None']
  flags = ('--configs=gin_configs/pushing_states/mse.gin', '--baseline=',
           '--goal_tolerance=0.02')
  _compare(tmp_path, *flags, task='PUSH', num_episodes=2, budget=budget)
  binding = 'PushEnv.success_tolerance = 0.02'
  run_dir = tmp_path / 'work' / 'runs' / 'PUSH' / 'mse' / 'seed0'
  assert binding in (run_dir / 'operative_config.gin').read_text()
  collection = json.loads(
      (tmp_path / 'work' / 'data' / 'PUSH' / 'collection.json').read_text())
  assert binding not in collection['gin_bindings']
  markdown = (tmp_path / 'bench.md').read_text()
  assert _record_block(tmp_path) in markdown
  assert (f'success within 0.02 m of the target(s) (`{binding}`, bound for '
          'evaluation only; the demonstrations were collected at 0.01 m)'
          in markdown)
  summary = json.loads((tmp_path / 'compare_run.json').read_text())
  assert summary['evaluation']['goal_tolerance_m'] == 0.02
  assert [entry['step'] for entry in
          summary['methods'][0]['runs'][0]['eval_history']] == [2, 4]
  wall = (run_dir / 'wall_time.json').read_text()

  stdout = _compare(tmp_path, *flags, '--resume', task='PUSH',
                    num_episodes=2, budget=budget)
  assert 'mse seed 0: reading the finished run' in stdout
  assert (run_dir / 'wall_time.json').read_text() == wall


def test_oracle_is_scored_as_the_runs_are_and_its_figure_kept(tmp_path):
  from bench import compare  # pylint: disable=g-import-not-at-top
  bindings = ["train_eval.task = 'PUSH'"]
  own = compare.oracle_success('PUSH', [], bindings, None, 4, str(tmp_path))
  # It pushes to its own 0.01 m, so a tighter evaluation fails it.
  tight = compare.oracle_success('PUSH', [], bindings, 0.002, 4, str(tmp_path))
  assert own == 1.0 and tight < 1.0
  cached = json.loads((tmp_path / 'oracle_success.json').read_text())
  assert cached == {'None m, 4 episodes': own, '0.002 m, 4 episodes': tight}
  cached['None m, 4 episodes'] = 0.5
  (tmp_path / 'oracle_success.json').write_text(json.dumps(cached))
  assert compare.oracle_success('PUSH', [], bindings, None, 4,
                                str(tmp_path)) == 0.5
  env = environments.make('PUSH')  # the process's gin state is left empty
  try:
    assert env.success_tolerance == 0.01
  finally:
    env.close()


def test_oracle_is_scored_on_the_evaluation_seeds_the_runs_bind(
    tmp_path, monkeypatch):
  from bench import compare  # pylint: disable=g-import-not-at-top
  seeds = []
  make = environments.make

  def recording_make(task, seed=None):
    seeds.append(seed)
    return make(task, seed=seed)

  monkeypatch.setattr(environments, 'make', recording_make)
  bindings = ["train_eval.task = 'PARTICLE'", 'train_eval.eval_seed = 7']
  figure = compare.oracle_success('PARTICLE', [], bindings, None, 2,
                                  str(tmp_path))
  assert seeds == [7, 8]
  cached = json.loads((tmp_path / 'oracle_success.json').read_text())
  assert cached == {'None m, 2 episodes from seed 7': figure}


def test_goal_tolerance_flag_binds_the_evaluation_environment():
  from bench import compare  # pylint: disable=g-import-not-at-top
  args = compare.parse_args(['--task=PUSH_DISCONTINUOUS', '--goal_tolerance=0.02',
                             '--configs=gin_configs/pushing_states/mse.gin'])
  assert args.eval_bindings == [
      'PushDiscontinuousEnv.success_tolerance = 0.02']
  environments.import_modules('PUSH_DISCONTINUOUS')
  gin.parse_config(args.eval_bindings)
  try:
    env = train_eval.make_env('PUSH_DISCONTINUOUS', history_length=2)
  finally:
    gin.clear_config()
  try:
    assert env.success_tolerance == 0.02
  finally:
    env.close()
  default = environments.make('PUSH_DISCONTINUOUS')
  assert default.success_tolerance == 0.04
  default.close()


def test_collection_tolerance_is_the_one_the_comparisons_bindings_set():
  from bench import compare  # pylint: disable=g-import-not-at-top
  task_binding = "train_eval.task = 'PUSH_DISCONTINUOUS'"
  assert compare.collection_tolerance('PUSH_DISCONTINUOUS',
                                      [task_binding]) == 0.04
  assert compare.collection_tolerance(
      'PUSH_DISCONTINUOUS',
      [task_binding, 'PushDiscontinuousEnv.success_tolerance = 0.02']) == 0.02
  assert compare.collection_tolerance('PARTICLE', []) is None
  # The process's gin state is left empty for what runs next.
  env = environments.make('PUSH_DISCONTINUOUS')
  try:
    assert env.success_tolerance == 0.04
  finally:
    env.close()


def test_goal_tolerance_is_refused_for_a_task_without_one():
  from absl import app  # pylint: disable=g-import-not-at-top
  from bench import compare  # pylint: disable=g-import-not-at-top
  with pytest.raises(app.UsageError, match='PARTICLE has no success tolerance'):
    compare.parse_args(['--task=PARTICLE', '--goal_tolerance=0.02',
                        '--configs=gin_configs/particle/mse.gin'])


def test_summary_must_be_a_record_bench_results_tables_renders():
  from absl import app  # pylint: disable=g-import-not-at-top
  from bench import compare  # pylint: disable=g-import-not-at-top
  with pytest.raises(app.UsageError, match="must start with 'compare_'"):
    compare.parse_args(['--task=PARTICLE', '--summary=docs/results/push.json',
                        '--configs=gin_configs/particle/mse.gin'])


def test_given_dataset_is_trained_on_instead_of_collecting(first_run,
                                                          tmp_path):
  dataset = first_run[0] / 'work' / 'data' / 'PARTICLE'
  command_dir = tmp_path / 'given'
  command_dir.mkdir()
  _compare(command_dir, '--configs=gin_configs/particle/mse.gin',
           f'--dataset={dataset}', '--baseline=', num_episodes=1)
  record = json.loads((command_dir / 'compare_run.json').read_text())
  assert record['dataset']['path'] == os.path.relpath(dataset)
  assert record['dataset']['collection_seed'] is None
  assert 'oracle' not in record['dataset']  # whoever collected it is unknown
  assert record['dataset']['episodes'] == 20  # the given one's, not 1
  assert not (command_dir / 'work' / 'data').exists()
  assert f'episodes ({record["dataset"]["steps"]} steps) from' in (
      command_dir / 'bench.md').read_text()


def test_a_missing_dataset_is_refused():
  from absl import app  # pylint: disable=g-import-not-at-top
  from bench import compare  # pylint: disable=g-import-not-at-top
  with pytest.raises(app.UsageError, match='--dataset: no such directory'):
    compare.parse_args(['--task=PARTICLE', '--dataset=/nonexistent/data',
                        '--configs=gin_configs/particle/mse.gin'])
