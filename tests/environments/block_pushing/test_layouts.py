"""Layout draws: the original's ranges, yaw wrapping and points apart in x."""
import numpy as np
import pytest

from environments.block_pushing import layouts


def test_wrapped_angles_lie_in_minus_pi_exclusive_to_pi_inclusive():
  angles = np.array([-np.pi, np.pi, 3 * np.pi, -2.5 * np.pi, 0.3])
  wrapped = layouts.wrap_angle(angles)
  assert np.all((wrapped > -np.pi) & (wrapped <= np.pi))
  np.testing.assert_allclose(np.cos(wrapped), np.cos(angles), atol=1e-12)
  np.testing.assert_allclose(wrapped[:2], [np.pi, np.pi])


def test_draws_stay_in_the_original_ranges():
  rng = np.random.default_rng(0)
  yaws = [layouts.block_yaw(rng) for _ in range(500)]
  blocks = np.array([layouts.block_start(rng) for _ in range(500)])
  targets = np.array([layouts.target_position(rng) for _ in range(500)])
  target_yaws = np.array([layouts.target_yaw(rng) for _ in range(500)])
  assert 1.0 <= min(yaws) and max(yaws) < np.pi
  assert np.all(np.abs(blocks - [0.4, -0.2]) <= [0.1, 0.15])
  assert np.all(np.abs(targets - [0.4, 0.2]) <= [0.1, 0.15])
  # pi +- pi/6, wrapped: within pi/6 of pi on the circle.
  assert np.all(np.abs(layouts.wrap_angle(target_yaws - np.pi)) <= np.pi / 6)


def test_two_draws_come_back_more_than_the_gap_apart_in_x():
  rng = np.random.default_rng(1)
  for _ in range(50):
    first, second = layouts.draw_apart_in_x(
        lambda: layouts.block_start(rng), min_gap=0.1)
    assert abs(first[0] - second[0]) > 0.1


def test_a_gap_no_draw_can_reach_is_an_error_not_a_hang():
  with pytest.raises(ValueError, match='more than 0.3 m apart'):
    layouts.draw_apart_in_x(lambda: np.array([0.4, 0.0]), min_gap=0.3)
