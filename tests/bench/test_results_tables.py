"""Tests for bench.results_tables: docs tables generated from recorded runs."""
import json
import pathlib
import shutil

import pytest

from bench import results_tables

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _copy_of_the_docs(tmp_path: pathlib.Path) -> pathlib.Path:
  shutil.copytree(ROOT / results_tables.RESULTS_DIR,
                  tmp_path / results_tables.RESULTS_DIR)
  for document in results_tables.DOCUMENTS:
    shutil.copy(ROOT / document, tmp_path / document)
  return tmp_path


def _stale(root: pathlib.Path) -> list:
  return [document for document, (old, new)
          in results_tables.regenerate(str(root)).items() if old != new]


def test_every_table_in_docs_and_the_readme_matches_its_recorded_run():
  assert _stale(ROOT) == [], (
      'run `python -m bench.results_tables` to regenerate them')


def test_a_changed_figure_in_a_record_changes_docs_and_the_readme(tmp_path):
  root = _copy_of_the_docs(tmp_path)
  path = root / results_tables.RESULTS_DIR / 'quickstart.json'
  record = json.loads(path.read_text())
  record['runs'][0]['success_rate'] = 0.11
  path.write_text(json.dumps(record))
  assert sorted(_stale(root)) == sorted(results_tables.DOCUMENTS)
  new_readme = results_tables.regenerate(str(root))['README.md'][1]
  assert '0.11' in new_readme


def test_a_record_measured_with_a_gpu_says_so(tmp_path):
  root = _copy_of_the_docs(tmp_path)
  path = root / results_tables.RESULTS_DIR / 'quickstart.json'
  record = json.loads(path.read_text())
  record['machine']['gpus'] = ['/physical_device:GPU:0']
  path.write_text(json.dumps(record))
  old, new = results_tables.regenerate(str(root))['docs/benchmarks.md']
  assert 'GPU: /physical_device:GPU:0.' in new
  assert 'GPU: /physical_device:GPU:0.' not in old


def test_a_hand_edited_readme_summary_is_found(tmp_path):
  root = _copy_of_the_docs(tmp_path)
  readme = root / 'README.md'
  text = readme.read_text()
  begin = text.index('<!-- results summary -->')
  edited = text[:begin] + text[begin:].replace('| 5 x 100 |', '| 6 x 100 |', 1)
  assert edited != text
  readme.write_text(edited)
  assert _stale(root) == ['README.md']


def test_a_record_with_no_table_in_any_document_is_refused(tmp_path):
  root = _copy_of_the_docs(tmp_path)
  benchmarks = root / 'docs' / 'benchmarks.md'
  benchmarks.write_text(benchmarks.read_text().replace(
      '<!-- result: quickstart -->\n', '').replace(
          '<!-- /result: quickstart -->', ''))
  with pytest.raises(ValueError, match='No document has a table for '
                     'quickstart'):
    results_tables.regenerate(str(root))


def test_a_record_without_a_renderer_is_refused(tmp_path):
  root = _copy_of_the_docs(tmp_path)
  (root / results_tables.RESULTS_DIR / 'unknown_study.json').write_text('{}')
  with pytest.raises(ValueError, match='unknown_study.json has no renderer'):
    results_tables.regenerate(str(root))


def test_regenerated_documents_are_stable(tmp_path):
  root = _copy_of_the_docs(tmp_path)
  for document, (_, new) in results_tables.regenerate(str(root)).items():
    (root / document).write_text(new)
  assert _stale(root) == []


def _run(seed, best, last_mean, history=()):
  return dict(seed=seed, train_steps=3000, steps_per_sec=8.0,
              latency_ms=15.0, eval_episodes=100, wall_seconds=600 + 60 * seed,
              success_rate=dict(best=best, last_mean=last_mean),
              eval_history=[dict(step=step, success_rate=rate)
                            for step, rate in history])


def figure(mean, std):
  return dict(mean=mean, std=std)


def _push_comparison(method, gin_bindings=()):
  """A bench.compare record of PUSH with one method."""
  return dict(
      command='python -m bench.compare --task=PUSH', commit='abcdef0123',
      date='2026-12-07T10:00:00', machine=dict(cores=2, cpu_model='CPU'),
      section='## Comparison: PUSH', task='PUSH',
      evaluation=dict(text='at 0.02 m'),
      dataset=dict(episodes=2000, steps=106048, collection_seed=0),
      gin_bindings=list(gin_bindings), methods=[method])


def _method(name, runs, best, last_mean, last_spread):
  return dict(name=name, runs=runs, summary=dict(success_rate=dict(
      best=best, last_mean=last_mean, last_spread=last_spread)))


def test_comparison_rows_put_the_papers_figure_beside_best_and_last_5():
  record = _push_comparison(_method(
      'ibc_dfo', [_run(0, 0.98, 0.95), _run(1, 1.0, 0.97)],
      figure(0.99, 0.01), figure(0.96, 0.01), figure(0.04, 0.0)))
  table, rows = results_tables.RENDERERS['compare_'](record)
  assert ('| ibc_dfo | 1.00 ± 0.00 | 0.99 ± 0.01 | 0.96 ± 0.01 | '
          '0.04 ± 0.00 | 0.98 / 1.00 | 3000 | 8.0 | 15.0 |') in table
  assert rows[0].paper == '1.00 ± 0.00'
  assert rows[0].here == '0.99 ± 0.01 (last 5: 0.96 ± 0.01)'
  assert rows[0].runs == '2 x 100'
  assert rows[0].section == 'Comparison: PUSH'


def test_a_comparison_with_bindings_names_them_in_its_rows_and_table():
  record = _push_comparison(
      _method('mse', [_run(0, 0.5, 0.4)], figure(0.5, 0.0),
              figure(0.4, 0.0), figure(0.1, 0.0)),
      gin_bindings=['PushEnv.success_tolerance = 0.02'])
  table, rows = results_tables.RENDERERS['compare_'](record)
  assert ('collected and trained with `PushEnv.success_tolerance = 0.02`'
          in table)
  assert rows[0].result == 'PUSH, mse; `PushEnv.success_tolerance = 0.02`'


def test_a_comparison_gives_its_dart_noise_and_oracles_success_in_its_table_and_readme_row():
  record = _push_comparison(_method('mse', [_run(0, 0.5, 0.4)],
                                    figure(0.5, 0.0), figure(0.4, 0.0),
                                    figure(0.1, 0.0)))
  table, _ = results_tables.RENDERERS['compare_'](record)
  assert 'the oracle that collected them' not in table
  record['dataset']['oracle'] = dict(episodes=100, success_rate=0.7)
  record['dataset']['action_noise'] = 0.05
  table, rows = results_tables.RENDERERS['compare_'](record)
  assert ('2000 oracle episodes (106048 steps, collection seed 0), DART: its '
          'actions executed with noise 0.05 of the action range and recorded '
          'clean; the oracle that collected them, scored as the runs are, '
          'succeeds in 0.70 of the first 100 evaluation episodes') in table
  assert rows[0].here == '0.50 ± 0.00 (last 5: 0.40 ± 0.00; oracle 0.70)'


def test_a_comparison_on_given_data_names_it_and_its_normalized_score():
  method = _method('mse', [_run(0, 0.0, 0.0)], figure(0.0, 0.0),
                   figure(0.0, 0.0), figure(0.0, 0.0))
  method['summary']['normalized_score_mean'] = dict(
      best=figure(1.44, 0.0), last_mean=figure(0.5, 0.0),
      last_spread=figure(1.0, 0.0))
  record = _push_comparison(method, ['train_eval.num_iterations = 20'])
  record['dataset'] = dict(episodes=11, steps=1700, collection_seed=None,
                           path='data/door-human-v0-sample')
  table, _ = results_tables.RENDERERS['compare_'](record)
  assert ('Dataset: 11 episodes (1700 steps) from '
          '`data/door-human-v0-sample`, trained with '
          '`train_eval.num_iterations = 20`.') in table
  assert '| 0.00; normalized score 1.44 ± 0.00 |' in table


def test_every_evaluation_and_wall_time_of_every_run_is_tabled_on_the_union_of_steps():
  record = _push_comparison(_method(
      'ibc_dfo', [_run(0, 0.9, 0.5, [(1000, 0.1), (2000, 0.9)]),
                  _run(1, 0.8, 0.5, [(1000, 0.2), (3000, 0.8)])],
      figure(0.85, 0.05), figure(0.5, 0.0), figure(0.7, 0.0)))
  table, _ = results_tables.RENDERERS['compare_'](record)
  assert ('| method | seed | step 1000 | step 2000 | step 3000 '
          '| wall time (min) |') in table
  assert '| ibc_dfo | 0 | 0.10 | 0.90 | - | 10 |' in table
  assert '| ibc_dfo | 1 | 0.20 | - | 0.80 | 11 |' in table
