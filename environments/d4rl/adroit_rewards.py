"""D4RL's rewards and terminations of the Adroit tasks, from the MuJoCo state.

gymnasium-robotics' AdroitHand*-v1 simulate D4RL's hand_manipulation_suite
with the same models and observations, but since its release 1.2.1 their dense
rewards of door, hammer and relocate add the palm-distance term instead of
subtracting it, and pen no longer ends when the pen falls. D4RL's normalized
scores are defined on the original rewards, so the port recomputes them here
with the formulas of D4RL's `*_v0.py` (bonus rewards on, as D4RL ships them).
On the door-human-v0 sample these reproduce the recorded rewards to 1e-8.
"""
from typing import Callable, Dict, NamedTuple

import mujoco
import numpy as np


class Outcome(NamedTuple):
  reward: float
  terminated: bool


def _distance(a: np.ndarray, b: np.ndarray) -> float:
  return float(np.linalg.norm(a - b))


def door(data: mujoco.MjData) -> Outcome:
  """Reach the handle, then swing the door open (hinge angle towards 1.57)."""
  palm = data.site('S_grasp').xpos
  handle = data.site('S_handle').xpos
  hinge = float(data.joint('door_hinge').qpos[0])
  reward = (-0.1 * _distance(palm, handle) - 0.1 * (hinge - 1.57)**2 -
            1e-5 * float(np.sum(np.square(data.qvel))))
  reward += 2.0 * (hinge > 0.2) + 8.0 * (hinge > 1.0) + 10.0 * (hinge > 1.35)
  return Outcome(reward, False)


def hammer(data: mujoco.MjData) -> Outcome:
  """Grasp the hammer, bring its head to the nail and drive the nail in."""
  hammer_handle = data.body('Object').xpos
  palm = data.site('S_grasp').xpos
  head = data.site('tool').xpos
  nail = data.site('S_target').xpos
  nail_gap = _distance(nail, data.site('nail_goal').xpos)
  reward = (-0.1 * _distance(palm, hammer_handle) - _distance(head, nail) -
            10.0 * nail_gap - 1e-2 * float(np.linalg.norm(data.qvel)))
  reward += 2.0 * (hammer_handle[2] > 0.04 and head[2] > 0.04)
  reward += 25.0 * (nail_gap < 0.02) + 75.0 * (nail_gap < 0.01)
  return Outcome(reward, False)


def pen(data: mujoco.MjData) -> Outcome:
  """Turn the pen to the target orientation; the episode ends if it drops."""
  pen_position = data.body('Object').xpos
  gap = _distance(pen_position, data.site('eps_ball').xpos)
  pen_axis = data.site('object_top').xpos - data.site('object_bottom').xpos
  target_axis = data.site('target_top').xpos - data.site('target_bottom').xpos
  similarity = float(np.dot(pen_axis, target_axis) / (
      np.linalg.norm(pen_axis) * np.linalg.norm(target_axis)))
  reward = -gap + similarity
  reward += 10.0 * (gap < 0.075 and similarity > 0.9)
  reward += 50.0 * (gap < 0.075 and similarity > 0.95)
  dropped = bool(pen_position[2] < 0.075)
  return Outcome(reward - 5.0 * dropped, dropped)


def relocate(data: mujoco.MjData) -> Outcome:
  """Pick the ball up and carry it to the target."""
  ball = data.body('Object').xpos
  palm = data.site('S_grasp').xpos
  target = data.site('target').xpos
  reward = -0.1 * _distance(palm, ball)
  if ball[2] > 0.04:  # lifted off the table
    reward += (1.0 - 0.5 * _distance(palm, target) -
               0.5 * _distance(ball, target))
  gap = _distance(ball, target)
  reward += 10.0 * (gap < 0.1) + 20.0 * (gap < 0.05)
  return Outcome(reward, False)


REWARD_FNS: Dict[str, Callable[[mujoco.MjData], Outcome]] = {
    'door': door,
    'hammer': hammer,
    'pen': pen,
    'relocate': relocate,
}
