"""Block pushing with two targets: PUSH_DISCONTINUOUS and PUSH_MULTIMODAL.

Both make the demonstrations hard for an explicit (regression) policy: in
the first, which target to push to jumps with the block's start position; in
the second, several equally good plans exist and demonstrations mix them.
"""
from typing import Dict, Tuple

import gin
import numpy as np

from environments.block_pushing import block_pushing_env


def _within(state: Dict[str, np.ndarray], block: str, target: str,
            tolerance: float) -> bool:
  gap = state[f'{block}_translation'] - state[f'{target}_translation']
  return bool(np.linalg.norm(gap) < tolerance)


def _random_yaws(rng: np.random.Generator, count: int) -> np.ndarray:
  return rng.uniform(-block_pushing_env.YAW_RANGE,
                     block_pushing_env.YAW_RANGE, size=(count, 1))


@gin.configurable
class PushDiscontinuousEnv(block_pushing_env.BlockPushingEnv):
  """PUSH_DISCONTINUOUS: push the block to the target on its side.

  `target1` lies on the left (y > 0) and `target2` on the right (y < 0) of
  the robot's centre line; the block starts near that line and must go to
  the target on the side it starts on. Blocks starting a few millimetres
  apart may need pushes to targets 30 cm apart: the ideal policy is a
  discontinuous function of the block position. The block starts at least
  `SIDE_MARGIN` from the line, so its side is never ambiguous.
  """

  TARGET_NAMES = ('target1', 'target2')
  BLOCK_X_RANGE = (0.3, 0.38)  # m
  BLOCK_MAX_ABS_Y = 0.12  # m
  SIDE_MARGIN = 0.01  # m
  TARGET1_REGION = ((0.46, 0.1), (0.54, 0.2))  # m, (low, high) corners
  TARGET2_REGION = ((0.46, -0.2), (0.54, -0.1))  # m

  def __init__(self, max_steps: int = 100, success_tolerance: float = 0.05,
               **kwargs):
    super().__init__(max_steps, success_tolerance, **kwargs)
    self._goal = self.TARGET_NAMES[0]

  @classmethod
  def target_for_block(cls, block_translation: np.ndarray) -> str:
    """The target a block starting at `block_translation` [2] must reach."""
    return cls.TARGET_NAMES[0] if block_translation[1] > 0.0 else (
        cls.TARGET_NAMES[1])

  def _sample_layout(self) -> Tuple[np.ndarray, np.ndarray]:
    side = self._rng.choice([-1.0, 1.0])
    block = np.array([
        self._rng.uniform(*self.BLOCK_X_RANGE),
        side * self._rng.uniform(self.SIDE_MARGIN, self.BLOCK_MAX_ABS_Y)])
    self._goal = self.target_for_block(block)
    targets = np.stack([self._rng.uniform(*self.TARGET1_REGION),
                        self._rng.uniform(*self.TARGET2_REGION)])
    yaws = _random_yaws(self._rng, 3)
    return (np.concatenate([block[None], yaws[:1]], axis=1),
            np.concatenate([targets, yaws[1:]], axis=1))

  def _is_success(self, state: Dict[str, np.ndarray]) -> bool:
    return _within(state, 'block', self._goal, self._success_tolerance)


@gin.configurable
class PushMultimodalEnv(block_pushing_env.BlockPushingEnv):
  """PUSH_MULTIMODAL: push two blocks into two targets, one block each.

  Either block may go to either target and either may go first, so the
  demonstrations hold several distinct solutions of the same start.
  Success needs both targets occupied, each by a different block.
  """

  BLOCK_NAMES = ('block1', 'block2')
  TARGET_NAMES = ('target1', 'target2')
  BLOCK_REGION = ((0.3, -0.18), (0.36, 0.18))  # m, (low, high) corners
  TARGET_REGION = ((0.46, -0.18), (0.54, 0.18))  # m
  MIN_BLOCK_SEPARATION = 0.12  # m: room to pass the effector between them
  MIN_TARGET_SEPARATION = 0.15  # m: two blocks fit side by side

  def __init__(self, max_steps: int = 200, success_tolerance: float = 0.05,
               **kwargs):
    super().__init__(max_steps, success_tolerance, **kwargs)

  def _sample_layout(self) -> Tuple[np.ndarray, np.ndarray]:
    blocks = block_pushing_env.sample_separated_points(
        self._rng, [self.BLOCK_REGION] * 2, self.MIN_BLOCK_SEPARATION)
    targets = block_pushing_env.sample_separated_points(
        self._rng, [self.TARGET_REGION] * 2, self.MIN_TARGET_SEPARATION)
    yaws = _random_yaws(self._rng, 4)
    return (np.concatenate([blocks, yaws[:2]], axis=1),
            np.concatenate([targets, yaws[2:]], axis=1))

  def _is_success(self, state: Dict[str, np.ndarray]) -> bool:
    tolerance = self._success_tolerance
    return any(
        _within(state, 'block1', first, tolerance) and
        _within(state, 'block2', second, tolerance)
        for first, second in (('target1', 'target2'), ('target2', 'target1')))
