"""Benchmark reports: Markdown section replacement, and the charts."""
import pathlib
import sys

from matplotlib import figure as matplotlib_figure
from PIL import Image
import pytest

_REPO = pathlib.Path(__file__).resolve().parents[2]
if str(_REPO) not in sys.path:  # bench/ runs from the checkout, not installed
  sys.path.insert(0, str(_REPO))
from bench import report  # pylint: disable=wrong-import-position


HAND_MADE = """# Benchmarks

## Comparison: PARTICLE

old table

### Notes

old notes

## Comparison: PARTICLE_3D

other task

# Appendix
"""
NEW_SECTION = '## Comparison: PARTICLE\n\nnew table\n'


@pytest.mark.parametrize('markdown, expected', [
    (HAND_MADE, HAND_MADE.replace(
        'old table\n\n### Notes\n\nold notes\n', 'new table\n')),
    ('# Benchmarks\n\n## Quickstart\n\nq\n\n',
     '# Benchmarks\n\n## Quickstart\n\nq\n\n' + NEW_SECTION),
    ('', NEW_SECTION),
    ('## Comparison: PARTICLE\n\nold table', NEW_SECTION),
], ids=['between_sections', 'appended', 'empty_file', 'last_section'])
def test_replace_section_replaces_only_its_own_section(markdown, expected):
  replaced = report.replace_section(markdown, '## Comparison: PARTICLE',
                                     NEW_SECTION + '\n')
  assert replaced == expected


def test_notes_below_the_marker_survive_a_rewritten_section():
  markdown = ('# Benchmarks\n\n## Comparison: PUSH\n\nold table\n\n'
              f'{report.NOTES_MARKER}\nWhy IBC trails: not converged.\n\n'
              '## Comparison: PARTICLE\n\nother\n')
  replaced = report.replace_section(markdown, '## Comparison: PUSH',
                                     '## Comparison: PUSH\n\nnew table\n')
  assert replaced == (
      '# Benchmarks\n\n## Comparison: PUSH\n\nnew table\n\n'
      f'{report.NOTES_MARKER}\nWhy IBC trails: not converged.\n\n'
      '## Comparison: PARTICLE\n\nother\n')


def _drawn_figures(monkeypatch) -> list:
  drawn = []
  original = matplotlib_figure.Figure.savefig

  def savefig(figure, *args, **kwargs):
    drawn.append(figure)
    return original(figure, *args, **kwargs)

  monkeypatch.setattr(matplotlib_figure.Figure, 'savefig', savefig)
  return drawn


def test_dimension_chart_has_labelled_axes_dimension_ticks_and_legend(
    tmp_path, monkeypatch):
  drawn = _drawn_figures(monkeypatch)
  path = tmp_path / 'nd.png'
  report.draw_dimension_chart(
      [2, 4, 8, 16], {'MSE': [(0.96, 0.01), (0.9, 0.01), (0.95, 0.0), (0, 0)],
                      'IBC': [(0.8, 0.05), (0.77, 0.09), (0.03, 0.03), (0, 0)]},
      str(path), 'N-D particle')
  (axes,) = drawn[0].axes
  assert axes.get_xlabel() == 'action dimension'
  assert axes.get_ylabel() == 'success rate'
  assert [label.get_text() for label in axes.get_xticklabels()] == [
      '2D', '4D', '8D', '16D']
  assert [text.get_text() for text in axes.get_legend().get_texts()] == [
      'MSE', 'IBC']
  assert Image.open(path).format == 'PNG'


def test_success_chart_labels_each_bar_with_its_mean(tmp_path, monkeypatch):
  drawn = _drawn_figures(monkeypatch)
  results = [report.MethodResult('IBC-DFO', [0.9, 0.96], [1, 1], [1, 1],
                                 [1, 1], [100, 100]),
             report.MethodResult('MSE', [0.99, 0.97], [1, 1], [1, 1], [1, 1],
                                 [100, 100])]
  report.draw_success_chart(results, str(tmp_path / 'bars.png'), 'PARTICLE')
  (axes,) = drawn[0].axes
  labels = {text.get_text() for text in axes.texts}
  assert {'0.93', '0.98'} <= labels
  assert [label.get_text() for label in axes.get_xticklabels()] == [
      'IBC-DFO', 'MSE']


def _multimodal_result(name, p2_histories):
  histories = [[{'step': step, 'success_rate': p2, 'p1': min(1.0, 2 * p2),
                 'p2': p2} for step, p2 in enumerate(rates, 1)]
               for rates in p2_histories]
  return report.MethodResult(name, [h[-1]['success_rate'] for h in histories],
                             [5] * 2, [1.0] * 2, [1.0] * 2, [100] * 2,
                             histories, [60.0] * 2)


def test_rates_table_gives_best_and_last_5_of_p1_and_p2():
  results = [_multimodal_result('ibc', [[0.1, 0.3, 0.2], [0.2, 0.2, 0.2]])]
  assert results[0].has('p1') and not results[0].has('p9')
  table = report.format_rates_table(results, ['p1', 'p2'])
  # p2 best: 0.3 and 0.2; last-5 means: 0.2 and 0.2. p1 = 2 * p2.
  assert table.splitlines()[-1] == (
      '| ibc | 0.500 ± 0.100 | 0.400 ± 0.000 | 0.250 ± 0.050 | '
      '0.200 ± 0.000 |')


def test_step_curves_draw_each_seed_and_the_mean(tmp_path, monkeypatch):
  drawn = _drawn_figures(monkeypatch)
  results = [_multimodal_result('ibc', [[0.1, 0.3, 0.2], [0.2, 0.2, 0.2]])]
  report.draw_step_curves(results, str(tmp_path / 'curves.png'), 'PUSH')
  (axes,) = drawn[0].axes
  assert len(axes.lines) == 3  # two seeds and their mean
  assert axes.get_xlabel() == 'train step'
  assert [text.get_text() for text in axes.get_legend().get_texts()] == [
      'ibc (mean of 2 seeds)']
