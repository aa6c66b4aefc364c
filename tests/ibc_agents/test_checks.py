"""Argument checks name the parameter, the value and its type."""
import pytest

from ibc_agents import checks


@pytest.mark.parametrize('value', [8.5, '20', True, 0, None])
def test_integer_refuses_what_is_not_a_positive_integer(value):
  with pytest.raises(ValueError, match=r"x.n must be an integer >= 1, got"):
    checks.integer('x.n', value)


def test_integer_accepts_numpy_integers_and_returns_an_int():
  import numpy as np  # pylint: disable=g-import-not-at-top
  assert checks.integer('x.n', np.int64(3)) == 3
  assert checks.integer('x.seed', 0, minimum=0) == 0


@pytest.mark.parametrize('value', ['1e-3', float('nan'), -1.0, 2.0, False])
def test_real_refuses_non_numbers_nan_and_values_out_of_bounds(value):
  with pytest.raises(ValueError,
                     match=r'x.rate must be a finite number in \[0.0, 1.0\]'):
    checks.real('x.rate', value, low=0.0, high=1.0)


@pytest.mark.parametrize('value', [float('inf'), float('-inf'), 1e999])
def test_real_refuses_infinity_even_without_bounds(value):
  with pytest.raises(ValueError, match=r'x.rate must be a finite number, got'):
    checks.real('x.rate', value)


def test_real_accepts_integers_as_floats():
  assert checks.real('x.rate', 1, low=0.0) == 1.0
