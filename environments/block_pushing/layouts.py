"""Where blocks and targets start: the original's layout draws.

Positions are (x, y) in metres in the robot's frame (see `block_pushing_env`),
yaws in radians; every draw takes the episode's numpy Generator.
"""
from typing import Callable, Tuple

import numpy as np

# Original `reset`: block and target positions around these centres.
WORKSPACE_CENTER_X = 0.4  # m
BLOCK_CENTER_Y = -0.2  # m
TARGET_CENTER_Y = 0.2  # m
X_SPREAD = 0.1  # m, half-width of the uniform draws in x
Y_SPREAD = 0.15  # m, half-width of the uniform draws in y
MAX_LAYOUT_DRAWS = 1000  # original `NUM_RESET_ATTEMPTS`


def wrap_angle(angle: np.ndarray) -> np.ndarray:
  """Maps angles to (-pi, pi], as the original's yaw from Euler angles."""
  return np.pi - np.mod(np.pi - angle, 2.0 * np.pi)


def block_yaw(rng: np.random.Generator) -> float:
  """A block's start yaw, uniform on [1, pi).

  The original draws `rng.uniform(math.pi)`, which is numpy's
  `uniform(low=pi, high=1.0)`: uniform between 1 and pi, not 0 and pi.
  """
  return float(rng.uniform(1.0, np.pi))


def target_yaw(rng: np.random.Generator) -> float:
  """A target's yaw, pi +- pi/6 (original), wrapped to (-pi, pi]."""
  return float(wrap_angle(np.pi + rng.uniform(-np.pi / 6, np.pi / 6)))


def block_start(rng: np.random.Generator) -> np.ndarray:
  """A block's start (x, y): original, 0.4 +- 0.1 and -0.2 +- 0.15 m."""
  return np.array([WORKSPACE_CENTER_X + rng.uniform(-X_SPREAD, X_SPREAD),
                   BLOCK_CENTER_Y + rng.uniform(-Y_SPREAD, Y_SPREAD)])


def target_position(rng: np.random.Generator) -> np.ndarray:
  """A target's (x, y): original, 0.4 +- 0.1 and 0.2 +- 0.15 m."""
  return np.array([WORKSPACE_CENTER_X + rng.uniform(-X_SPREAD, X_SPREAD),
                   TARGET_CENTER_Y + rng.uniform(-Y_SPREAD, Y_SPREAD)])


def draw_apart_in_x(draw: Callable[[], np.ndarray],
                    min_gap: float) -> Tuple[np.ndarray, np.ndarray]:
  """Two `draw()`s whose points are more than `min_gap` apart in x.

  As the original's two-block and two-target layouts: the second point is
  redrawn up to `NUM_RESET_ATTEMPTS` times, and when none fits, both are.

  Raises:
    ValueError: If no such pair was found in `MAX_LAYOUT_DRAWS` attempts.
  """
  for _ in range(MAX_LAYOUT_DRAWS):
    first = draw()
    for _ in range(MAX_LAYOUT_DRAWS):
      second = draw()
      if abs(second[0] - first[0]) > min_gap:
        return first, second
  raise ValueError(f'Could not draw two points more than {min_gap} m apart '
                   f'in x after {MAX_LAYOUT_DRAWS} attempts.')
