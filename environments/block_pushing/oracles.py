"""Scripted demonstrators of the block-pushing tasks.

PUSH and PUSH_DISCONTINUOUS are demonstrated as the original
implementation's `environments/block_pushing/oracles/oriented_push_oracle.py`
(and `discontinuous_push_oracle.py`) demonstrate them (`OrientedPusher`):
move behind the block on the line from the target through it, turn the
block with side pushes when a face does not point at the target, then push
through its centre. PUSH_MULTIMODAL, whose two blocks must not sweep through
each other, uses `Pusher`: approach the pre-push point detouring around
every block, then push along the line while steering back onto it. REACH
heads straight for its goal.

Time steps are unbatched, as `PyDriver` passes them; use one oracle per
environment (the oracles remember their phase between steps). The oracles
act on the simulator state; `EnvStateOracle` runs them on the tasks that
observe images.
"""
import abc
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from tf_agents.policies import py_policy
from tf_agents.trajectories import policy_step
from tf_agents.trajectories import time_step as ts
from tf_agents.typing import types

from environments.block_pushing import block_pushing_env
from environments.block_pushing import multi_target_envs
from environments.block_pushing import robot

Observation = Dict[str, np.ndarray]

# Fastest effector move per step: 0.3 m/s at 10 Hz, the original oracle's
# approach speed (`oriented_push_oracle.py`), well inside the action bound.
MAX_STEP = 0.03  # m
PRE_PUSH_DISTANCE = 0.06  # m from the block centre, back along the push line
START_PUSH_DISTANCE = 0.01  # m from the pre-push point at which pushing starts
PUSH_SPEED = 0.02  # m per step along the push line (0.2 m/s)
LINE_GAIN = 0.5  # fraction of the distance to the push line corrected per step
MAX_LINE_OFFSET = 0.025  # m off the line before the oracle approaches again
# Effector paths keep this far from block centres: the block's half diagonal
# plus the effector's radius (3.8 cm), plus a margin.
CLEARANCE = (block_pushing_env.BLOCK_SIZE / np.sqrt(2) + robot.EFFECTOR_RADIUS
             + 0.012)  # m
DETOUR_FACTOR = 1.25  # detour waypoints lie this many clearances out
# Blocks pushed one after the other must not sweep through each other.
PATH_CLEARANCE = 0.12  # m between a push segment and another block
# PUSH_MULTIMODAL: the oracle turns to the next block once this fraction of
# the success tolerance from the target, well inside it.
DELIVERED_FRACTION = 0.5


def _unit(vector: np.ndarray) -> np.ndarray:
  return vector / max(np.linalg.norm(vector), 1e-9)


def _closest_on_segment(start: np.ndarray, end: np.ndarray,
                        point: np.ndarray) -> np.ndarray:
  direction = end - start
  fraction = np.dot(point - start, direction) / max(
      np.dot(direction, direction), 1e-12)
  return start + np.clip(fraction, 0.0, 1.0) * direction


def next_waypoint(start: np.ndarray, goal: np.ndarray,
                  obstacles: Sequence[np.ndarray]) -> np.ndarray:
  """The point to head for on the way from `start` to `goal` around blocks.

  The straight line is taken unless it passes within `CLEARANCE` of an
  obstacle centre; then the nearest such obstacle (along the way) is passed
  on the side the line already leans to. Obstacles the goal itself is too
  close to are ignored: they cannot be avoided.
  """
  blocking = []
  for center in obstacles:
    if np.linalg.norm(goal - center) < CLEARANCE:
      continue
    closest = _closest_on_segment(start, goal, center)
    if np.linalg.norm(closest - center) < CLEARANCE:
      blocking.append((np.linalg.norm(closest - start), closest, center))
  if not blocking:
    return goal
  _, closest, center = min(blocking, key=lambda item: item[0])
  side = closest - center
  if np.linalg.norm(side) < 1e-6:  # head-on: pass on the left of the path
    path = goal - start
    side = np.array([-path[1], path[0]])
  return center + _unit(side) * CLEARANCE * DETOUR_FACTOR


def _toward(position: np.ndarray, waypoint: np.ndarray) -> np.ndarray:
  """Displacement towards `waypoint`, at most `MAX_STEP` per axis."""
  return np.clip(waypoint - position, -MAX_STEP, MAX_STEP)


class Pusher:
  """Pushes one block to one point; remembers whether it is pushing."""

  def __init__(self):
    self._pushing = False

  def reset(self) -> None:
    self._pushing = False

  def action(self, effector: np.ndarray, block: np.ndarray,
             goal: np.ndarray, obstacles: Sequence[np.ndarray]) -> np.ndarray:
    """Effector displacement [2] that brings `block` towards `goal`.

    Args:
      effector: the effector target position [2] (what actions move).
      block: the block's centre [2].
      goal: where the block's centre should go [2].
      obstacles: centres [2] of every block, including the pushed one.
    """
    line = _unit(goal - block)
    pre_push = block - PRE_PUSH_DISTANCE * line
    offset = effector - block
    along = np.dot(offset, line)
    off_line = offset - along * line
    if self._pushing:
      self._pushing = (along < 0.0 and
                       np.linalg.norm(off_line) < MAX_LINE_OFFSET)
    else:
      self._pushing = np.linalg.norm(effector - pre_push) < START_PUSH_DISTANCE
    if self._pushing:
      return _toward(effector,
                     effector + PUSH_SPEED * line - LINE_GAIN * off_line)
    return _toward(effector, next_waypoint(effector, pre_push, obstacles))


# OrientedPusher, with the values of the original's `OrientedPushOracle` (at
# its 10 Hz control rate, speeds in m/s are these lengths per step).
APPROACH_STEP = 0.03  # m, towards the pre-push point (0.3 m/s)
PUSH_STEP = 0.035  # m, towards the block and through it (0.35 m/s)
ORIENT_STEP = 0.015  # m, while turning the block (0.15 m/s)
ORIENTED_PRE_PUSH_DISTANCE = 0.05  # m behind the block centre
NEXT_TO_BLOCK_DISTANCE = 0.03  # m behind the block centre: pushing starts
TOUCHING_DISTANCE = 0.01  # m behind the block centre: where a push aims
ARRIVED_DISTANCE = 0.001  # m from a waypoint at which the next phase starts
ORIENT_THRESHOLD = 0.2  # rad of misalignment that calls for turning
ALIGNED_THRESHOLD = 0.03  # rad of misalignment at which turning stops
ORIENT_RADIUS = 0.025  # m from the block centre to the side-push point
ORIENT_ANGLE = 0.2  # rad ahead of the effector, around the block


def _rotate(vector: np.ndarray, angle: float) -> np.ndarray:
  cos, sin = np.cos(angle), np.sin(angle)
  return np.array([cos * vector[0] - sin * vector[1],
                   sin * vector[0] + cos * vector[1]])


def _limit(displacement: np.ndarray, length: float) -> np.ndarray:
  """`displacement` shortened to at most `length` (its norm)."""
  norm = np.linalg.norm(displacement)
  return displacement if norm <= length else displacement * (length / norm)


class OrientedPusher:
  """Turns a square block to face the goal, then pushes it there.

  Phases, as the original's `OrientedPushOracle`: `approach` the pre-push
  point 5 cm behind the block (on the line from the goal through the
  block), move `to_block` (3 cm behind it), then `push` towards the point
  1 cm behind its centre, which moves with the block. The block's
  misalignment is the angle between the push line and the nearest face
  normal (the block is 4-way symmetric); above `ORIENT_THRESHOLD` the pusher
  turns it (`turn_left` or `turn_right`, stepping around it at
  `ORIENT_RADIUS`) until within `ALIGNED_THRESHOLD`, then approaches again.
  A phase that ends hands over to the next within the same step, so one
  step may pass through several phases, as in the original.
  """

  def __init__(self):
    self.phase = 'approach'

  def reset(self) -> None:
    self.phase = 'approach'

  def action(self, effector: np.ndarray, block: np.ndarray,
             block_yaw: float, goal: np.ndarray) -> np.ndarray:
    """Effector displacement [2] that brings `block` towards `goal`.

    Args:
      effector: the effector target position [2] (what actions move).
      block: the block's centre [2].
      block_yaw: the block's yaw (rad).
      goal: where the block's centre should go [2].
    """
    line = _unit(goal - block)
    misalignment = np.arctan2(line[1], line[0]) - block_yaw
    misalignment = (misalignment + np.pi / 4) % (np.pi / 2) - np.pi / 4
    step = PUSH_STEP
    displacement = np.zeros(2)
    if self.phase == 'approach':
      step = APPROACH_STEP
      displacement = block - ORIENTED_PRE_PUSH_DISTANCE * line - effector
      if np.linalg.norm(displacement) < ARRIVED_DISTANCE:
        self.phase = 'to_block'
    if self.phase == 'to_block':
      displacement = block - NEXT_TO_BLOCK_DISTANCE * line - effector
      if np.linalg.norm(displacement) < ARRIVED_DISTANCE:
        self.phase = 'push'
      if misalignment > ORIENT_THRESHOLD:
        self.phase = 'turn_left'
      elif misalignment < -ORIENT_THRESHOLD:
        self.phase = 'turn_right'
    if self.phase == 'push':
      if abs(misalignment) > ORIENT_THRESHOLD:
        self.phase = 'approach'
      displacement = block - TOUCHING_DISTANCE * line - effector
    if self.phase in ('turn_left', 'turn_right'):
      step = ORIENT_STEP
      sign = 1.0 if self.phase == 'turn_left' else -1.0
      around = _rotate(_unit(effector - block), sign * ORIENT_ANGLE)
      displacement = block + ORIENT_RADIUS * around - effector
      if sign * misalignment < ALIGNED_THRESHOLD:
        self.phase = 'approach'
    return _limit(displacement, step)


def _position(observation: Observation, name: str) -> np.ndarray:
  return np.asarray(observation[f'{name}_translation'], np.float64)


class _Oracle(py_policy.PyPolicy):
  """Base: clears memory on FIRST steps, returns float32 actions."""

  def __init__(self, env: block_pushing_env.BlockPushingEnv):
    super().__init__(ts.time_step_spec(env.state_spec()), env.action_spec())
    self._block_names = env.BLOCK_NAMES
    self._tolerance = env.success_tolerance

  def _start_episode(self, observation: Observation) -> None:
    """Called on every FIRST time step, before `_displacement`."""

  @abc.abstractmethod
  def _displacement(self, observation: Observation) -> np.ndarray:
    """The effector displacement (dx, dy) to command for `observation`."""

  def _blocks(self, observation: Observation) -> List[np.ndarray]:
    return [_position(observation, name) for name in self._block_names]

  def _action(self, time_step: ts.TimeStep, policy_state: types.NestedArray,
              seed: Optional[types.Seed] = None) -> policy_step.PolicyStep:
    del seed  # Randomness, where any, comes from the oracle's own generator.
    if time_step.is_first():
      self._start_episode(time_step.observation)
    action = self._displacement(time_step.observation).astype(np.float32)
    return policy_step.PolicyStep(action, policy_state, ())


class ReachOracle(_Oracle):
  """REACH: heads straight for the reach point of the episode's start."""

  def __init__(self, env: block_pushing_env.BlockPushingEnv):
    super().__init__(env)
    self._goal = np.zeros(2)

  def _start_episode(self, observation: Observation) -> None:
    self._goal = block_pushing_env.reach_point(
        _position(observation, 'block'), _position(observation, 'target'))

  def _displacement(self, observation: Observation) -> np.ndarray:
    return _toward(_position(observation, 'effector_target'), self._goal)


class PushOracle(_Oracle):
  """PUSH: turns the block to face the target and pushes it there.

  As the original's `OrientedPushOracle` (see `OrientedPusher`).
  """

  def __init__(self, env: block_pushing_env.BlockPushingEnv):
    super().__init__(env)
    self._pusher = OrientedPusher()
    self._target = 'target'

  def _start_episode(self, observation: Observation) -> None:
    self._pusher.reset()

  def _displacement(self, observation: Observation) -> np.ndarray:
    return self._pusher.action(
        _position(observation, 'effector_target'),
        _position(observation, 'block'),
        float(np.asarray(observation['block_orientation']).reshape(-1)[0]),
        _position(observation, self._target))


class PushDiscontinuousOracle(PushOracle):
  """PUSH_DISCONTINUOUS: pushes to `target`, then on to `target2`.

  As the original's `DiscontinuousOrientedPushOracle`: it turns to `target2`
  on the first step the block is within the success tolerance of `target`,
  carrying on in its current phase.
  """

  def _start_episode(self, observation: Observation) -> None:
    super()._start_episode(observation)
    self._target = 'target'

  def _displacement(self, observation: Observation) -> np.ndarray:
    if self._target == 'target' and np.linalg.norm(
        _position(observation, 'block') - _position(observation, 'target')
    ) < self._tolerance:
      self._target = 'target2'
    return super()._displacement(observation)


class PushMultimodalOracle(_Oracle):
  """PUSH_MULTIMODAL: pushes the blocks into the targets one after the other.

  Each episode it draws, among the block-to-target assignments and orders
  whose pushes do not sweep a block through the other (`PATH_CLEARANCE`),
  one at random: the demonstrations are multimodal by design.
  """

  def __init__(self, env: multi_target_envs.PushMultimodalEnv,
               seed: Optional[int] = 0):
    super().__init__(env)
    self._target_names = env.TARGET_NAMES
    self._rng = np.random.default_rng(seed)
    self._pusher = Pusher()
    self._plan: List[Tuple[str, str]] = []

  def _start_episode(self, observation: Observation) -> None:
    self._pusher.reset()
    plans = _clear_plans(observation, self._block_names, self._target_names)
    self._plan = list(plans[self._rng.integers(len(plans))])

  def _displacement(self, observation: Observation) -> np.ndarray:
    block, target = self._plan[0]
    if len(self._plan) > 1 and np.linalg.norm(
        _position(observation, block) - _position(observation, target)
    ) < DELIVERED_FRACTION * self._tolerance:
      self._plan.pop(0)
      self._pusher.reset()
      block, target = self._plan[0]
    return self._pusher.action(
        _position(observation, 'effector_target'),
        _position(observation, block), _position(observation, target),
        self._blocks(observation))


def _segment_distance(start: np.ndarray, end: np.ndarray,
                      point: np.ndarray) -> float:
  return float(np.linalg.norm(_closest_on_segment(start, end, point) - point))


def _clear_plans(observation: Observation, blocks: Sequence[str],
                 targets: Sequence[str]) -> List[Tuple[Tuple[str, str], ...]]:
  """Two-push plans ((block, target), (block, target)) that stay clear.

  The first push must pass the other block's start, the second the first
  block's target, by `PATH_CLEARANCE`. Returns the clear plans, or when none
  is clear the one whose closest pass is the widest.
  """
  first_block, second_block = blocks
  plans = []
  for first_target, second_target in (tuple(targets), tuple(targets[::-1])):
    plans.append(((first_block, first_target), (second_block, second_target)))
    plans.append(((second_block, second_target), (first_block, first_target)))

  def closest_pass(plan):
    (block_a, target_a), (block_b, target_b) = plan
    a, b = _position(observation, block_a), _position(observation, block_b)
    target_a_position = _position(observation, target_a)
    return min(
        _segment_distance(a, target_a_position, b),
        _segment_distance(b, _position(observation, target_b),
                          target_a_position))

  clear = [plan for plan in plans if closest_pass(plan) >= PATH_CLEARANCE]
  return clear or [max(plans, key=closest_pass)]


class EnvStateOracle(py_policy.PyPolicy):
  """Runs a state oracle on a task that observes images.

  Each time step's observation is replaced by the environment's simulator
  state (`env.state()`) before `oracle` sees it, so the demonstrations record
  images while the oracle acts on exact positions. The time steps must be
  `env`'s current ones, as `PyDriver` and `collect` pass them.
  """

  def __init__(self, env: block_pushing_env.BlockPushingEnv,
               oracle: py_policy.PyPolicy):
    super().__init__(env.time_step_spec(), env.action_spec())
    self._env = env
    self._oracle = oracle

  def _action(self, time_step: ts.TimeStep, policy_state: types.NestedArray,
              seed: Optional[types.Seed] = None) -> policy_step.PolicyStep:
    del seed  # The wrapped oracle draws from its own generator.
    return self._oracle.action(
        time_step._replace(observation=self._env.state()), policy_state)
