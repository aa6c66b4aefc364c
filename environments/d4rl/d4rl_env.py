"""D4RL human-demonstration tasks as TF-Agents environments.

Adroit (door, pen, hammer, relocate; Rajeswaran et al., 2018) and Franka
kitchen, as D4RL registers them (Fu et al., 2020). `D4rlEnv` runs D4RL's own
environment when `d4rl` and its simulator import, and otherwise, for Adroit,
gymnasium-robotics' AdroitHand*-v1 port (`pip install .[d4rl]`), which needs
no MuJoCo 2.1 binaries. Kitchen has no port: gymnasium-robotics'
FrankaKitchen-v1 observes a dict of another layout, so it runs only on D4RL.

Episode limits are D4RL's registration values (hand_manipulation_suite and
kitchen `__init__.py` of d4rl 1.1): door, hammer and relocate 200 steps, pen
100, kitchen 280. An episode is truncated there (LAST, discount 1); it ends
early (LAST, discount 0) only where D4RL's environment says done: pen when the
pen drops, kitchen when every subtask is complete.

How faithful the door port is, checked against the real door-human-v0 sample
(anchor_samples/door-human-v0, recorded with D4RL's mujoco_py environment):
- Observation layout: both build [qpos[1:-2] (27 hand and arm joints, ARRx to
  THJ0; the arm slide ARTz is not observed), latch angle, door hinge angle,
  palm position (3), handle position (3), palm - handle (3), door open
  (+1 if hinge > 1.0 else -1)], 39 values. Resetting the port to the initial
  state of each of the 6 episodes that start from a reset (all joints 0, door
  body = recorded handle position - (0.29, -0.15, -0.025)) reproduces the
  recorded first observation element by element to 1.5e-8 (float32 rounding).
- Dynamics: replaying the recorded actions open loop tracks the recorded
  observations to < 1e-4 for the first 44 to 74 steps, after which contacts
  make the two simulators drift apart; the D4RL reward recomputed by
  `adroit_rewards.door` matches the recorded reward to 1e-8 per step, and the
  replayed 200-step returns are within 0.02 of the recorded ones (2.0 in one
  episode). gymnasium-robotics' own dense reward differs (its palm-distance
  term has the opposite sign), hence the recomputation.
- The sample's episodes alternate 200 and 100 steps: door-human-v0 marks a
  timeout every 200 steps, so each 300-step human demonstration is a
  200-step episode from the reset state plus a 100-step one that starts
  mid-task (qpos non-zero, door partly open) and cannot be reset to.
"""
import dataclasses
from typing import Dict, Optional

import numpy as np
from tf_agents.specs import array_spec
from tf_agents.trajectories import time_step as ts

from environments import task_env

from environments.d4rl import simulators

_INSTALL_HINT = 'pip install .[d4rl]'


@dataclasses.dataclass(frozen=True)
class TaskInfo:
  """How to simulate one D4RL task.

  Attributes:
    max_episode_steps: D4RL's episode limit.
    d4rl_module: the d4rl module that registers the task with gym.
    gymnasium_id: gymnasium-robotics' port, None where there is none.
    reward_name: key of the port's D4RL reward in `adroit_rewards`.
  """
  max_episode_steps: int
  d4rl_module: str
  gymnasium_id: Optional[str] = None
  reward_name: Optional[str] = None


def _adroit(name: str, max_episode_steps: int) -> TaskInfo:
  return TaskInfo(max_episode_steps, 'd4rl.hand_manipulation_suite',
                  f'AdroitHand{name.capitalize()}-v1', name)


TASKS: Dict[str, TaskInfo] = {
    'door-human-v0': _adroit('door', 200),
    'pen-human-v0': _adroit('pen', 100),
    'hammer-human-v0': _adroit('hammer', 200),
    'relocate-human-v0': _adroit('relocate', 200),
    'kitchen-complete-v0': TaskInfo(280, 'd4rl.kitchen'),
    'kitchen-partial-v0': TaskInfo(280, 'd4rl.kitchen'),
    'kitchen-mixed-v0': TaskInfo(280, 'd4rl.kitchen'),
}


def make_simulator(task: str) -> simulators.Simulator:
  """D4RL's environment of `task` if it imports, else gymnasium-robotics' port.

  Raises:
    ImportError: naming what to install, when neither can be used.
  """
  info = TASKS[task]
  if simulators.d4rl_importable(info.d4rl_module):
    return simulators.D4rlSimulator(task, info.d4rl_module)
  if info.gymnasium_id is None:
    raise ImportError(
        f'{task} runs only in D4RL\'s own environment, and `import '
        f'{info.d4rl_module}` failed (it needs d4rl, mujoco_py with the '
        'MuJoCo 2.1 binaries and dm_control). gymnasium-robotics has no port '
        'with the same observations.')
  try:
    return simulators.GymnasiumRoboticsSimulator(info.gymnasium_id,
                                                 info.reward_name)
  except ImportError as e:
    raise ImportError(
        f'{task} needs D4RL\'s environment (d4rl with mujoco_py and mjrl) or '
        f'gymnasium-robotics\' port: {_INSTALL_HINT}. ({e})') from e


class D4rlEnv(task_env.TaskEnv):
  """A D4RL task: float32 observations [O], float32 actions [A] in bounds.

  The reward is D4RL's (so returns give D4RL normalized scores, see
  `scores`); `get_info()['success']` is the task's goal flag after the last
  step (door: hinge opened past 1.35 rad).
  """

  def __init__(self,
               task: str,
               seed: Optional[int] = None,
               simulator: Optional[simulators.Simulator] = None):
    """Creates the environment.

    Args:
      task: a D4RL task name, a key of `TASKS` (e.g. 'door-human-v0').
      seed: seed of the episode sequence; None draws one from the OS.
      simulator: the simulator to drive; by default `make_simulator(task)`.

    Raises:
      ValueError: if `task` is unknown; the message lists the known tasks.
      ImportError: if no simulator of the task can be imported.
    """
    if task not in TASKS:
      raise ValueError(f'Unknown D4RL task {task!r}; known: '
                       f'{", ".join(sorted(TASKS))}.')
    self._task = task
    self._max_episode_steps = TASKS[task].max_episode_steps
    self._simulator = simulator or make_simulator(task)
    super().__init__(
        array_spec.ArraySpec(self._simulator.observation_shape, np.float32,
                             name='observation'),
        array_spec.BoundedArraySpec(
            self._simulator.action_low.shape, np.float32,
            self._simulator.action_low, self._simulator.action_high,
            name='action'), seed)
    self._num_steps = 0
    self._episode_ended = True

  @property
  def task(self) -> str:
    return self._task

  @property
  def max_episode_steps(self) -> int:
    return self._max_episode_steps

  def seed(self, seed: Optional[int]) -> None:
    """Restarts the episode sequence from `seed` (takes effect on reset)."""
    self._pending_seed = seed

  def close(self) -> None:
    self._simulator.close()

  def _reset(self) -> ts.TimeStep:
    observation = self._simulator.reset(self._pending_seed)
    self._pending_seed = None
    self._num_steps = 0
    self._success = False
    self._episode_ended = False
    return ts.restart(np.asarray(observation, np.float32))

  def _step(self, action: np.ndarray) -> ts.TimeStep:
    if self._episode_ended:
      return self.reset()
    observation, reward, terminated, self._success = self._simulator.step(
        np.asarray(action))
    self._num_steps += 1
    observation = np.asarray(observation, np.float32)
    reward = np.asarray(reward, np.float32)
    if terminated:
      self._episode_ended = True
      return ts.termination(observation, reward)
    if self._num_steps >= self._max_episode_steps:
      self._episode_ended = True
      return ts.truncation(observation, reward)
    return ts.transition(observation, reward)
