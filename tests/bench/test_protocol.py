"""The paper's protocol figures: best, last-5 mean and spread of a run."""
import pathlib
import sys

import pytest

_REPO = pathlib.Path(__file__).resolve().parents[2]
if str(_REPO) not in sys.path:  # bench/ runs from the checkout, not installed
  sys.path.insert(0, str(_REPO))
from bench import protocol  # pylint: disable=wrong-import-position


def _history(rates, key='success_rate'):
  return [{'step': 100 * (index + 1), key: rate}
          for index, rate in enumerate(rates)]


def test_best_is_over_all_evaluations_and_last_5_over_the_last_five():
  figures = protocol.run_figures(_history([0.2, 1.0, 0.9, 0.7, 0.95, 0.8,
                                           0.85]))
  assert figures.best == 1.0
  assert figures.last_mean == pytest.approx((0.9 + 0.7 + 0.95 + 0.8 + 0.85)
                                            / 5)
  assert figures.last_spread == pytest.approx(0.95 - 0.7)
  assert figures.final == 0.85 and figures.num_evaluations == 7


def test_evaluations_are_ordered_by_step_not_by_position():
  history = _history([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
  shuffled = [history[index] for index in (5, 0, 3, 1, 4, 2)]
  figures = protocol.run_figures(shuffled)
  assert figures.final == 0.6
  assert figures.last_mean == pytest.approx(0.4)  # 0.2 .. 0.6


def test_fewer_than_five_evaluations_average_all_of_them():
  figures = protocol.run_figures(_history([0.5, 1.0]))
  assert figures.last_mean == pytest.approx(0.75)
  assert figures.last_spread == pytest.approx(0.5)


def test_other_keys_and_a_missing_key():
  history = [dict(entry, p1=rate) for entry, rate in
             zip(_history([0.1, 0.2]), (0.5, 0.75))]
  assert protocol.run_figures(history, 'p1').best == 0.75
  with pytest.raises(ValueError, match="'p2'"):
    protocol.run_figures(history, 'p2')


def test_summary_is_mean_and_population_std_over_seeds():
  runs = [protocol.run_figures(_history(rates))
          for rates in ([1.0, 0.9], [0.8, 0.8])]
  summary = protocol.summarize(runs)
  assert summary['best'] == pytest.approx({'mean': 0.9, 'std': 0.1})
  assert summary['last_mean'] == pytest.approx({'mean': 0.875, 'std': 0.075})
  assert summary['last_spread'] == pytest.approx({'mean': 0.05, 'std': 0.05})
