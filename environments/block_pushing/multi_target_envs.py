"""Block pushing with two targets: PUSH_DISCONTINUOUS and PUSH_MULTIMODAL.

Both as the original implementation defines them
(`environments/block_pushing/block_pushing_discontinuous.py` and
`block_pushing_multimodal.py`, cited as "original"). Both make the
demonstrations hard for an explicit (regression) policy: in the first, the
push direction jumps when the block reaches the first target; in the second,
several equally good plans exist and demonstrations mix them.
"""
from typing import Dict, Tuple

import gin
import numpy as np

from environments.block_pushing import block_pushing_env as base
from environments.block_pushing import layouts


def _distance(state: Dict[str, np.ndarray], block: str, target: str) -> float:
  return float(np.linalg.norm(state[f'{block}_translation'] -
                              state[f'{target}_translation']))


@gin.configurable
class PushDiscontinuousEnv(base.BlockPushingEnv):
  """PUSH_DISCONTINUOUS: push the block to `target`, then on to `target2`.

  Original `BlockPushDiscontinuous`: the block starts as in PUSH; `target`
  lies on the robot's centre line (y = 0) and `target2` 0.4 m to the left,
  more than 0.15 m from `target` in x. The episode ends once the block has
  been within tolerance of both targets (in either order); it succeeds if
  `target` was reached and the block is within tolerance of `target2` when
  it ends. Tolerance 0.04 m, at most 200 steps
  (`BlockPushDiscontinuous-v0`).
  """

  TARGET_NAMES = ('target', 'target2')
  TARGET_Y = (0.0, 0.4)  # m
  MIN_TARGET_X_GAP = 0.15  # m, original `MIN_TARGET_DIST`

  def __init__(self, max_steps: int = 200, success_tolerance: float = 0.04,
               **kwargs):
    super().__init__(max_steps, success_tolerance, **kwargs)
    self._reached = np.zeros(2, bool)

  def _target_x(self) -> np.ndarray:
    return np.array([layouts.WORKSPACE_CENTER_X + self._rng.uniform(
        -layouts.X_SPREAD, layouts.X_SPREAD)])

  def _start_layout(self, block_poses: np.ndarray,
                    target_poses: np.ndarray) -> None:
    self._reached[:] = False

  def _sample_layout(self) -> Tuple[np.ndarray, np.ndarray]:
    block = np.append(layouts.block_start(self._rng),
                      layouts.block_yaw(self._rng))
    first, second = layouts.draw_apart_in_x(self._target_x,
                                            self.MIN_TARGET_X_GAP)
    first, second = (np.append(first, self.TARGET_Y[0]),
                     np.append(second, self.TARGET_Y[1]))
    targets = np.stack([np.append(first, layouts.target_yaw(self._rng)),
                        np.append(second, layouts.target_yaw(self._rng))])
    return block[None], targets

  def _is_success(self, state: Dict[str, np.ndarray]) -> bool:
    tolerance = self._success_tolerance
    within = [_distance(state, 'block', name) < tolerance
              for name in self.TARGET_NAMES]
    self._reached |= within
    # The original's `succeeded` tests the first target's running minimum
    # twice; in effect: `target` reached, and the block at `target2` now.
    return bool(self._reached[0] and within[1])

  def _ends_episode(self, success: bool) -> bool:
    # Original `step`: done once both running minima are within tolerance.
    return bool(self._reached.all())


@gin.configurable
class PushMultimodalEnv(base.BlockPushingEnv):
  """PUSH_MULTIMODAL: push two blocks into two targets, one block each.

  Original `BlockPushMultimodal`: both blocks start in PUSH's block region,
  more than 0.1 m apart in x, and both targets lie in PUSH's target region,
  more than 0.12 m apart in x. Either block may go to either target and
  either may go first, so the demonstrations hold several distinct solutions
  of the same start. Success needs each block within tolerance of its
  closest target, and those targets distinct. Tolerance 0.04 m, at most 200
  steps (`BlockPushMultimodal-v0`), ended on success.
  """

  BLOCK_NAMES = ('block', 'block2')
  TARGET_NAMES = ('target', 'target2')
  MIN_BLOCK_X_GAP = 0.1  # m, original `MIN_BLOCK_DIST`
  MIN_TARGET_X_GAP = 0.12  # m, original `MIN_TARGET_DIST`

  def __init__(self, max_steps: int = 200, success_tolerance: float = 0.04,
               **kwargs):
    super().__init__(max_steps, success_tolerance, **kwargs)
    self._most_delivered = 0

  def get_info(self) -> Dict[str, np.bool_]:
    """Success, and Diffusion Policy's p1 and p2 of the episode so far.

    p1: at some step one block was within tolerance of a target; p2: at some
    step both were, in distinct targets (Diffusion Policy's Table 4,
    BlockPush). The episode ends on success, so p2 is the success there.
    """
    return dict(super().get_info(), p1=np.bool_(self._most_delivered >= 1),
                p2=np.bool_(self._most_delivered >= 2))

  def _start_layout(self, block_poses: np.ndarray,
                    target_poses: np.ndarray) -> None:
    self._most_delivered = 0

  def _sample_layout(self) -> Tuple[np.ndarray, np.ndarray]:
    rng = self._rng
    blocks = layouts.draw_apart_in_x(lambda: layouts.block_start(rng),
                                     self.MIN_BLOCK_X_GAP)
    targets = layouts.draw_apart_in_x(lambda: layouts.target_position(rng),
                                      self.MIN_TARGET_X_GAP)
    yaws = [layouts.block_yaw(rng), layouts.block_yaw(rng),
            layouts.target_yaw(rng), layouts.target_yaw(rng)]
    poses = [np.append(point, yaw)
             for point, yaw in zip(blocks + targets, yaws)]
    return np.stack(poses[:2]), np.stack(poses[2:])

  def _is_success(self, state: Dict[str, np.ndarray]) -> bool:
    closest = set()  # targets holding a block
    for block in self.BLOCK_NAMES:
      distances = [_distance(state, block, target)
                   for target in self.TARGET_NAMES]
      if min(distances) < self._success_tolerance:
        closest.add(int(np.argmin(distances)))
    self._most_delivered = max(self._most_delivered, len(closest))
    return len(closest) == len(self.BLOCK_NAMES)
