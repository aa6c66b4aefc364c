"""Which simulator a D4RL task runs on, and the errors when there is none."""
import sys
import types

import gym
import numpy as np
import pytest
from tf_agents.trajectories import time_step as ts

from environments.d4rl import d4rl_env
from environments.d4rl import simulators


class _FakeD4rlDoor(gym.Env):
  """Stands in for D4RL's DoorEnvV0: old gym API, done after 3 steps."""

  observation_space = gym.spaces.Box(-np.inf, np.inf, (39,), np.float64)
  action_space = gym.spaces.Box(-1.0, 1.0, (28,), np.float32)

  def __init__(self):
    self.seeds = []
    self._steps = 0

  def seed(self, seed=None):
    self.seeds.append(seed)

  def reset(self):
    self._steps = 0
    return np.full(39, 0.5)

  def step(self, action):
    self._steps += 1
    done = self._steps == 3
    return (np.full(39, float(self._steps)), 1.5, done,
            {'goal_achieved': done})


@pytest.fixture(name='d4rl_importable')
def fixture_d4rl_importable(monkeypatch):
  """Pretends d4rl's Adroit suite imports and registers a fake door."""
  fake_env = _FakeD4rlDoor()
  monkeypatch.setitem(sys.modules, 'd4rl', types.ModuleType('d4rl'))
  monkeypatch.setitem(sys.modules, 'd4rl.hand_manipulation_suite',
                      types.ModuleType('d4rl.hand_manipulation_suite'))
  monkeypatch.setattr(gym, 'make',
                      lambda task: {'door-human-v0': fake_env}[task])
  simulators.d4rl_importable.cache_clear()
  yield fake_env
  simulators.d4rl_importable.cache_clear()


@pytest.fixture(name='no_d4rl')
def fixture_no_d4rl(monkeypatch):
  """Makes every d4rl import fail, as on a machine without MuJoCo 2.1."""
  monkeypatch.setitem(sys.modules, 'd4rl', None)
  simulators.d4rl_importable.cache_clear()
  yield
  simulators.d4rl_importable.cache_clear()


def test_d4rls_own_environment_is_preferred(d4rl_importable):
  env = d4rl_env.D4rlEnv('door-human-v0', seed=7)
  assert env.observation_spec().shape == (39,)
  assert env.action_spec().shape == (28,)

  first = env.reset()
  assert d4rl_importable.seeds == [7]
  assert first.observation.dtype == np.float32
  steps = [env.step(np.zeros(28, np.float32)) for _ in range(3)]
  assert [s.step_type for s in steps] == [
      ts.StepType.MID, ts.StepType.MID, ts.StepType.LAST]
  assert steps[-1].discount == 0.0  # D4RL said done: a termination
  assert steps[-1].reward == pytest.approx(1.5)
  assert env.get_info()['success']  # from D4RL's goal_achieved
  env.reset()
  assert d4rl_importable.seeds == [7]  # seeded once, on the first reset


def test_kitchen_without_d4rl_says_what_it_needs(no_d4rl):
  with pytest.raises(ImportError,
                     match=r'only in D4RL.*d4rl\.kitchen.*mujoco_py'):
    d4rl_env.D4rlEnv('kitchen-complete-v0')


def test_adroit_without_either_simulator_names_the_install(no_d4rl,
                                                           monkeypatch):
  monkeypatch.setitem(sys.modules, 'gymnasium_robotics', None)
  with pytest.raises(ImportError, match=r'door-human-v0 needs .*mjrl.*'
                     r'pip install \.\[d4rl\]'):
    d4rl_env.D4rlEnv('door-human-v0')


def test_unknown_task_lists_known_ones():
  with pytest.raises(ValueError,
                     match=r'door-expert-v0.*known:.*door-human-v0'):
    d4rl_env.D4rlEnv('door-expert-v0')
