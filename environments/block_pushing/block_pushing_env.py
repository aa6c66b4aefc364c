"""Block pushing with an xArm6 in pybullet: the PUSH and REACH tasks.

The robot base stands at the origin, +x points away from it across the
table and z up. A thin pusher held by the arm moves in the plane at a fixed
height: each action is a displacement (dx, dy) of the effector's commanded
target, which inverse kinematics and the joint motors track for one control
period (10 Hz, 24 physics substeps at 240 Hz). These are the block-pushing
tasks of Implicit Behavioral Cloning (Florence et al., 2021) as the original
implementation's `environments/block_pushing/block_pushing.py` defines them
(cited below as "original"): its control rate, action bounds, workspace,
start poses, layouts, step limits and success tolerance, and the physics of
its scene: the block of its `environments/assets/block.urdf`, the arm,
control and tool of `environments/utils/xarm_sim_robot.py` (see `robot`),
the table of pybullet's `plane.urdf` 1 mm below z = 0 and pybullet's
default solver settings.

The simulator state (`state()`) is a dict of float32 arrays with the original's
keys: for each block `<block>_translation` [2] and `<block>_orientation` [1]
(yaw in (-pi, pi]), the same for each target, and `effector_translation` [2]
(where the tip is) and `effector_target_translation` [2] (where it is
commanded). The tasks here observe the state; `pixel_envs` has them observed
through a camera. Success is decided on the state either way. The reward is 1
on the step that ends the task (the episode then terminates, discount 0), else
0; an unfinished episode is truncated after `max_steps` steps.
"""
import abc
import os
from typing import Dict, Optional, Sequence, Tuple

import gin
import numpy as np
import pybullet
import pybullet_data
from pybullet_utils import bullet_client
from tf_agents.specs import array_spec
from tf_agents.trajectories import time_step as ts

from environments import task_env
from environments.block_pushing import layouts
from environments.block_pushing import rendering
from environments.block_pushing import robot

BLOCK_URDF = os.path.join(robot.ASSETS_DIR, 'block.urdf')
TARGET_URDF = os.path.join(robot.ASSETS_DIR, 'target.urdf')
# As the original's block.urdf: a 4 cm cube (see assets/block.urdf).
BLOCK_SIZE = 0.04  # m
# Original `PLANE_URDF_PATH` loaded at `basePosition=[0, 0, -0.001]`: the table
# top lies 1 mm below z = 0 (the workspace.urdf above it does not collide).
TABLE_HEIGHT = -0.001  # m
# Original: `action_space = Box(-0.1, 0.1, (2,))`, a displacement of the
# commanded effector target; only the target is clipped, to the workspace.
ACTION_BOUND = 0.1  # m per step
# Original `WORKSPACE_BOUNDS`: the box the commanded target is clipped to.
WORKSPACE_LOW = np.array([0.15, -0.5])  # m
WORKSPACE_HIGH = np.array([0.7, 0.5])  # m
# Original `reset`: the effector target starts at (0.3, -0.4), no noise.
EFFECTOR_START = np.array([0.3, -0.4])  # m
# Original `EFFECTOR_HEIGHT`: the IK holds link6's frame 0.06 m high. The tool
# hanging from it comes to rest with its head from 5.8 to 2.8 cm and its rod
# down to 1.5 cm (see `robot`), so it pushes the 4 cm block near its top.
EFFECTOR_HEIGHT = 0.06  # m
CONTROL_PERIOD = 0.1  # s: original `control_frequency = 10.0`
# Original: pybullet's default 1/240 s time step, 24 substeps per control step.
PHYSICS_SUBSTEPS = 24
GRAVITY = 9.8  # m/s^2, original `setGravity(0, 0, -9.8)`
# pybullet's default, which the original keeps.
SOLVER_ITERATIONS = 50
# Original `reset`: after placing the scene, 100 physics steps (0.42 s) let
# the arm reach its start pose and the blocks settle before the first step.
SETTLE_SUBSTEPS = 100
_TABLE_COLOR = (0.85, 0.85, 0.8, 1.0)
_BLOCK_COLORS = ((0.85, 0.2, 0.2, 1.0), (0.2, 0.35, 0.85, 1.0))
_TARGET_COLORS = ((0.2, 0.7, 0.3, 1.0), (0.9, 0.75, 0.1, 1.0))


@gin.configurable
class BlockPushingEnv(task_env.TaskEnv):
  """Scene, control loop and observations shared by the block-pushing tasks.

  Subclasses name their blocks and targets (`BLOCK_NAMES`, `TARGET_NAMES`),
  draw their layout (`_sample_layout`), decide success (`_is_success`) and,
  where it differs from success, when an episode ends (`_ends_episode`);
  the observation is the state unless `_make_observation_spec` and
  `_observation` say otherwise (see `pixel_envs.PixelObservations`).
  Each environment owns a pybullet server in DIRECT mode (no display);
  `close` releases it.
  """

  BLOCK_NAMES: Tuple[str, ...] = ('block',)
  TARGET_NAMES: Tuple[str, ...] = ('target',)

  def __init__(self,
               max_steps: int,
               success_tolerance: float,
               render_width: int = 320,
               render_height: int = 240,
               camera: rendering.Camera = rendering.Camera(),
               seed: Optional[int] = None):
    """Creates the scene.

    Args:
      max_steps: Steps after which an unfinished episode is truncated.
      success_tolerance: Distance in metres within which the task's success
        test holds (e.g. block centre to target centre).
      render_width: Width in pixels of the images `render` returns.
      render_height: Height in pixels of the images `render` returns.
      camera: Viewpoint of `render` (and of image observations).
      seed: Seed of the episode sequence; None draws one from the OS.
    """
    if max_steps < 1 or success_tolerance <= 0.0:
      raise ValueError('max_steps must be >= 1 and success_tolerance > 0, got '
                       f'{max_steps} and {success_tolerance}.')
    self._max_steps = max_steps
    self._success_tolerance = success_tolerance
    self._render_size = (render_width, render_height)
    self._camera = camera

    self._client = bullet_client.BulletClient(
        connection_mode=pybullet.DIRECT)
    self._client.setPhysicsEngineParameter(
        fixedTimeStep=CONTROL_PERIOD / PHYSICS_SUBSTEPS,
        numSolverIterations=SOLVER_ITERATIONS)
    self._client.setGravity(0.0, 0.0, -GRAVITY)
    table = self._client.loadURDF(
        os.path.join(pybullet_data.getDataPath(), 'plane.urdf'),
        basePosition=[0.0, 0.0, TABLE_HEIGHT])
    # Plain instead of the checkerboard texture, a calmer pixel background.
    self._client.changeVisualShape(table, -1, textureUniqueId=-1,
                                   rgbaColor=_TABLE_COLOR)
    self._robot = robot.XArmPusher(self._client, EFFECTOR_HEIGHT)
    # Targets before blocks, in the original's order of loading.
    self._target_ids = [self._load(TARGET_URDF, color, fixed=True)
                        for color in _TARGET_COLORS[:len(self.TARGET_NAMES)]]
    self._block_ids = [self._load(BLOCK_URDF, color)
                       for color in _BLOCK_COLORS[:len(self.BLOCK_NAMES)]]
    # As the original: the loaded scene settles (the tool comes to rest
    # against the flange, see `robot`) and every episode starts from this
    # saved state, contacts included, so that episodes do not depend on the
    # ones before.
    for _ in range(SETTLE_SUBSTEPS):
      self._client.stepSimulation()
    self._settled_scene = self._client.saveState()

    self._state_spec = self._make_state_spec()
    super().__init__(
        self._make_observation_spec(),
        array_spec.BoundedArraySpec((2,), np.float32, -ACTION_BOUND,
                                    ACTION_BOUND, name='action'), seed)
    self._target_poses = np.zeros((len(self.TARGET_NAMES), 3))
    self._effector_target = EFFECTOR_START.copy()
    self._num_steps = 0
    self._success = False
    self._episode_ended = True

  def _load(self, urdf: str, color: Sequence[float], fixed: bool = False
            ) -> int:
    body = self._client.loadURDF(urdf, useFixedBase=fixed)
    self._client.changeVisualShape(body, -1, rgbaColor=color)
    return body

  def _make_state_spec(self) -> Dict[str, array_spec.ArraySpec]:
    names = ['effector_translation', 'effector_target_translation']
    for name in self.BLOCK_NAMES + self.TARGET_NAMES:
      names.append(f'{name}_translation')
      names.append(f'{name}_orientation')
    return {name: array_spec.ArraySpec(
        (1,) if name.endswith('orientation') else (2,), np.float32, name=name)
            for name in names}

  def _make_observation_spec(self) -> Dict[str, array_spec.ArraySpec]:
    """The observation spec; called once, after `_state_spec` is set."""
    return self._state_spec

  @property
  def max_steps(self) -> int:
    return self._max_steps

  @property
  def success_tolerance(self) -> float:
    return self._success_tolerance

  @success_tolerance.setter
  def success_tolerance(self, tolerance: float) -> None:
    """Scores later steps at `tolerance` (m), as `set_goal_dist_tolerance`."""
    if tolerance <= 0.0:
      raise ValueError(f'success_tolerance must be > 0, got {tolerance}.')
    self._success_tolerance = tolerance

  @property
  def pybullet_client(self) -> bullet_client.BulletClient:
    """The simulation, e.g. to place a block by hand in a test."""
    return self._client

  @property
  def block_ids(self) -> Tuple[int, ...]:
    """pybullet body ids of the blocks, in `BLOCK_NAMES` order."""
    return tuple(self._block_ids)

  def state_spec(self) -> Dict[str, array_spec.ArraySpec]:
    """Spec of `state()`: what the oracles act on."""
    return self._state_spec

  @abc.abstractmethod
  def _sample_layout(self) -> Tuple[np.ndarray, np.ndarray]:
    """Draws the start poses (x, y, yaw) of blocks [B, 3] and targets [T, 3]."""

  @abc.abstractmethod
  def _is_success(self, state: Dict[str, np.ndarray]) -> bool:
    """Whether the simulator `state` (see `state()`) shows the task complete.

    Called once after every step, so a task may keep memory of the episode.
    """

  def _ends_episode(self, success: bool) -> bool:
    """Whether the episode ends after a step; `_is_success` ran just before."""
    return success

  def _start_layout(self, block_poses: np.ndarray,
                    target_poses: np.ndarray) -> None:
    """Called with each episode's layout, before the scene is placed.

    Tasks that derive something from the layout (REACH's goal) or keep
    memory of the episode reset it here.
    """

  def reset_to_layout(self, block_poses: np.ndarray,
                      target_poses: np.ndarray) -> ts.TimeStep:
    """Starts an episode from the given layout instead of a random one.

    E.g. to replay recorded actions from a recorded start. The random
    layout sequence is not advanced.

    Args:
      block_poses: (x, y, yaw) of each block, [len(BLOCK_NAMES), 3].
      target_poses: (x, y, yaw) of each target, [len(TARGET_NAMES), 3].

    Returns:
      The episode's FIRST time step.
    """
    block_poses = np.asarray(block_poses, np.float64)
    target_poses = np.asarray(target_poses, np.float64)
    if (block_poses.shape != (len(self.BLOCK_NAMES), 3) or
        target_poses.shape != (len(self.TARGET_NAMES), 3)):
      raise ValueError(
          f'Expected block poses [{len(self.BLOCK_NAMES)}, 3] and target '
          f'poses [{len(self.TARGET_NAMES)}, 3], got {block_poses.shape} and '
          f'{target_poses.shape}.')
    self._current_time_step = self._start_episode(block_poses, target_poses)
    return self._current_time_step

  def _reset(self) -> ts.TimeStep:
    return self._start_episode(*self._sample_layout())

  def _start_episode(self, block_poses: np.ndarray,
                     target_poses: np.ndarray) -> ts.TimeStep:
    self._start_layout(block_poses, target_poses)
    self._client.restoreState(self._settled_scene)
    self._target_poses = target_poses.copy()
    for body, pose in zip(self._block_ids, block_poses):
      # Resting on the table (the original drops it from z = 0 and lets the
      # settling steps lift it out; the same pose results).
      self._place(body, pose, TABLE_HEIGHT + BLOCK_SIZE / 2)
    for body, pose in zip(self._target_ids, self._target_poses):
      self._place(body, pose, 0.0)
    self._effector_target = EFFECTOR_START.copy()
    self._robot.reset(self._effector_target)
    for _ in range(SETTLE_SUBSTEPS):
      self._client.stepSimulation()
    self._num_steps = 0
    self._success = False
    self._episode_ended = False
    return ts.TimeStep(ts.StepType.FIRST, np.asarray(0.0, np.float32),
                       np.asarray(1.0, np.float32),
                       self._observation(self.state()))

  def _place(self, body: int, pose: np.ndarray, height: float) -> None:
    self._client.resetBasePositionAndOrientation(
        body, [pose[0], pose[1], height],
        self._client.getQuaternionFromEuler([0.0, 0.0, pose[2]]))
    self._client.resetBaseVelocity(body, [0.0] * 3, [0.0] * 3)

  def _step(self, action: np.ndarray) -> ts.TimeStep:
    if self._episode_ended:
      return self.reset()
    displacement = np.asarray(action, dtype=np.float64)
    if displacement.shape != (2,):
      raise ValueError(f'Expected an action of shape (2,), got '
                       f'{displacement.shape}.')
    displacement = np.clip(displacement, -ACTION_BOUND, ACTION_BOUND)
    self._effector_target = np.clip(self._effector_target + displacement,
                                    WORKSPACE_LOW, WORKSPACE_HIGH)
    self._robot.move_to(self._effector_target, PHYSICS_SUBSTEPS)
    self._num_steps += 1
    state = self.state()
    self._success = self._is_success(state)
    observation = self._observation(state)
    if self._ends_episode(self._success):
      self._episode_ended = True
      return ts.TimeStep(ts.StepType.LAST, np.asarray(1.0, np.float32),
                         np.asarray(0.0, np.float32), observation)
    if self._num_steps >= self._max_steps:
      self._episode_ended = True
      return ts.TimeStep(ts.StepType.LAST, np.asarray(0.0, np.float32),
                         np.asarray(1.0, np.float32), observation)
    return ts.TimeStep(ts.StepType.MID, np.asarray(0.0, np.float32),
                       np.asarray(1.0, np.float32), observation)

  def state(self) -> Dict[str, np.ndarray]:
    """The current simulator state, as `state_spec()` describes it."""
    state = {
        'effector_translation': self._robot.tip_xy().astype(np.float32),
        'effector_target_translation': self._effector_target.astype(
            np.float32),
    }
    for name, body in zip(self.BLOCK_NAMES, self._block_ids):
      position, orientation = self._client.getBasePositionAndOrientation(body)
      yaw = self._client.getEulerFromQuaternion(orientation)[2]
      state[f'{name}_translation'] = np.array(position[:2], np.float32)
      state[f'{name}_orientation'] = np.array([yaw], np.float32)
    for name, pose in zip(self.TARGET_NAMES, self._target_poses):
      state[f'{name}_translation'] = pose[:2].astype(np.float32)
      state[f'{name}_orientation'] = pose[2:].astype(np.float32)
    return state

  def _observation(self, state: Dict[str, np.ndarray]
                   ) -> Dict[str, np.ndarray]:
    """The observation of `state`, as `observation_spec()` describes it."""
    return state

  def render(self, mode: str = 'rgb_array') -> np.ndarray:
    """Returns the camera image, uint8 [render_height, render_width, 3]."""
    if mode != 'rgb_array':
      raise ValueError(f"Only mode='rgb_array' is supported, got {mode!r}.")
    return rendering.render_rgb(self._client, self._camera, *self._render_size)

  def close(self) -> None:
    """Disconnects the pybullet server; the environment is unusable after."""
    if self._client is not None:
      self._client.disconnect()
      self._client = None


@gin.configurable
class PushEnv(BlockPushingEnv):
  """PUSH: push the block until its centre is within tolerance of the target.

  Original `BlockPush`: the block starts in front of the robot's right
  (y around -0.2 m) and the target lies on its left (y around +0.2 m), both
  with random yaw (the target's is for show: success depends on the block's
  position only). Tolerance 0.01 m (`goal_dist_tolerance`), episodes of at
  most 100 steps (`max_episode_steps` of `BlockPush-v0`), ended on success.
  """

  def __init__(self, max_steps: int = 100, success_tolerance: float = 0.01,
               **kwargs):
    super().__init__(max_steps, success_tolerance, **kwargs)

  def _sample_layout(self) -> Tuple[np.ndarray, np.ndarray]:
    block = np.append(layouts.block_start(self._rng),
                      layouts.block_yaw(self._rng))
    target = np.append(layouts.target_position(self._rng),
                       layouts.target_yaw(self._rng))
    return block[None], target[None]

  def _is_success(self, state: Dict[str, np.ndarray]) -> bool:
    return bool(np.linalg.norm(state['block_translation'] -
                               state['target_translation'])
                < self._success_tolerance)


def reach_point(block: np.ndarray, target: np.ndarray) -> np.ndarray:
  """REACH's goal [2]: 0.05 m behind the block on the line from the target.

  Original `_compute_reach_target`, computed once from the reset's state.
  """
  direction = (target - block) / np.linalg.norm(target - block)
  return block - 0.05 * direction


@gin.configurable
class ReachEnv(PushEnv):
  """REACH: bring the effector to the pre-push point behind the block.

  Original `BlockPush` with `task=REACH`: the layout of PUSH, and the goal
  `reach_point` of the start layout. Tolerance 0.01 m, at most 50 steps
  (`BlockReach-v0`).
  """

  def __init__(self, max_steps: int = 50, success_tolerance: float = 0.01,
               **kwargs):
    super().__init__(max_steps, success_tolerance, **kwargs)
    self._goal = np.zeros(2)

  def _start_layout(self, block_poses: np.ndarray,
                    target_poses: np.ndarray) -> None:
    self._goal = reach_point(block_poses[0, :2], target_poses[0, :2])

  def _is_success(self, state: Dict[str, np.ndarray]) -> bool:
    return bool(np.linalg.norm(state['effector_translation'] - self._goal)
                < self._success_tolerance)
