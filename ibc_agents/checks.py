"""Argument checks for values that arrive through gin, naming the parameter.

A gin binding of the wrong type (`num_counter_examples = 8.5`,
`num_iterations = '20'`) would otherwise fail far away, inside TensorFlow.
"""
import math
import numbers
from typing import Optional


def integer(name: str, value, minimum: int = 1) -> int:
  """`value` as an int, if it is an integer >= `minimum`.

  Raises:
    ValueError: naming `name`, the value and its type, otherwise.
  """
  if (isinstance(value, bool) or not isinstance(value, numbers.Integral)
      or value < minimum):
    raise ValueError(f'{name} must be an integer >= {minimum}, got {value!r} '
                     f'({type(value).__name__}).')
  return int(value)


def real(name: str, value, low: Optional[float] = None,
         high: Optional[float] = None) -> float:
  """`value` as a float, if it is a finite real number in [low, high].

  Raises:
    ValueError: naming `name`, the value and its type, otherwise.
  """
  if (isinstance(value, bool) or not isinstance(value, numbers.Real)
      or not math.isfinite(value) or (low is not None and value < low)
      or (high is not None and value > high)):
    bounds = f' in [{low}, {high}]' if low is not None or high is not None else ''
    raise ValueError(f'{name} must be a finite number{bounds}, got {value!r} '
                     f'({type(value).__name__}).')
  return float(value)
