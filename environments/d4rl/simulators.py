"""The two simulators a D4RL task can run on, behind one small interface.

`D4rlSimulator` is D4RL's own gym environment (needs d4rl, mujoco_py with the
MuJoCo 2.1 binaries and, for Adroit, mjrl). `GymnasiumRoboticsSimulator` is
gymnasium-robotics' port of the Adroit tasks on the official `mujoco`
bindings, which pip installs everywhere; it reports D4RL's rewards (see
`adroit_rewards`). Both are imported only when a simulator is built.
"""
import functools
import importlib
from typing import Any, Optional, Protocol, Tuple

import numpy as np

# (observation [O] as the simulator returns it, reward, terminated, success)
StepResult = Tuple[np.ndarray, float, bool, bool]


class Simulator(Protocol):
  """What `D4rlEnv` needs from a simulator."""

  observation_shape: Tuple[int, ...]
  action_low: np.ndarray
  action_high: np.ndarray

  def reset(self, seed: Optional[int]) -> np.ndarray:
    """Starts an episode (reseeding first unless `seed` is None)."""

  def step(self, action: np.ndarray) -> StepResult:
    """Applies one action."""

  def close(self) -> None:
    """Releases the simulator."""


@functools.lru_cache(maxsize=None)
def d4rl_importable(module: str) -> bool:
  """Whether D4RL's `module` (e.g. 'd4rl.kitchen') imports; cached per module.

  mujoco_py raises a bare Exception, not ImportError, when the MuJoCo binaries
  are missing, hence the broad except.
  """
  try:
    importlib.import_module(module)
  except Exception:  # pylint: disable=broad-except
    return False
  return True


class D4rlSimulator:
  """D4RL's registered gym environment of a task (old gym 4-tuple API)."""

  def __init__(self, task: str, d4rl_module: str):
    import gym  # pylint: disable=g-import-not-at-top
    importlib.import_module(d4rl_module)  # registers the task with gym
    # Unwrapped: `D4rlEnv` applies D4RL's episode limit itself.
    self.env = gym.make(task).unwrapped
    self.observation_shape = tuple(self.env.observation_space.shape)
    self.action_low = np.asarray(self.env.action_space.low)
    self.action_high = np.asarray(self.env.action_space.high)

  def reset(self, seed: Optional[int]) -> np.ndarray:
    if seed is not None:
      self.env.seed(seed)
    return self.env.reset()

  def step(self, action: np.ndarray) -> StepResult:
    observation, reward, done, info = self.env.step(action)
    # Adroit reports goal_achieved; kitchen ends once all its subtasks are done.
    return observation, float(reward), bool(done), bool(
        info.get('goal_achieved', done))

  def close(self) -> None:
    self.env.close()


class GymnasiumRoboticsSimulator:
  """gymnasium-robotics' AdroitHand*-v1 reporting D4RL's rewards."""

  def __init__(self, gymnasium_id: str, reward_name: str):
    import gymnasium  # pylint: disable=g-import-not-at-top
    import gymnasium_robotics  # pylint: disable=g-import-not-at-top
    from environments.d4rl import adroit_rewards  # pylint: disable=g-import-not-at-top
    gymnasium.register_envs(gymnasium_robotics)
    # Unwrapped: `D4rlEnv` applies D4RL's episode limit itself.
    self.env: Any = gymnasium.make(gymnasium_id).unwrapped
    self._reward_fn = adroit_rewards.REWARD_FNS[reward_name]
    self.observation_shape = tuple(self.env.observation_space.shape)
    self.action_low = np.asarray(self.env.action_space.low)
    self.action_high = np.asarray(self.env.action_space.high)

  def reset(self, seed: Optional[int]) -> np.ndarray:
    observation, _ = self.env.reset(seed=seed)
    return observation

  def step(self, action: np.ndarray) -> StepResult:
    observation, _, _, _, info = self.env.step(action)
    reward, terminated = self._reward_fn(self.env.data)
    return observation, reward, terminated, bool(info['success'])

  def close(self) -> None:
    self.env.close()
