"""Scripted policy that solves the particle task (the demonstrator)."""
from typing import Optional

import numpy as np
from tf_agents.policies import py_policy
from tf_agents.trajectories import policy_step
from tf_agents.trajectories import time_step as ts
from tf_agents.typing import types

from environments.particle import particle_env



class ParticleOracle(py_policy.PyPolicy):
  """Targets the first goal until it is reached, then the second goal.

  Whether the first goal was reached is not in the observation, so the oracle
  remembers it; the memory is cleared on every FIRST time step. Use one oracle
  per environment. Time steps are unbatched, as `PyDriver` passes them.
  """

  def __init__(self, env: particle_env.ParticleEnv,
               switch_fraction: float = 0.5):
    """Creates the oracle.

    Args:
      env: the environment the oracle acts in.
      switch_fraction: the oracle turns to the second goal once within this
        fraction of the goal tolerance of the first (0.025 for the default
        tolerance). Halfway leaves a cloned policy margin on both sides: one
        that switches a little early has still reached the first goal, and
        one that aims a little off still gets close enough to switch.
    """
    super().__init__(env.time_step_spec(), env.action_spec())
    if not 0.0 < switch_fraction < 1.0:
      raise ValueError(
          f'switch_fraction must be in (0, 1), got {switch_fraction}.')
    self._switch_distance = switch_fraction * env.goal_tolerance
    self._reached_first = False

  def _action(self,
              time_step: ts.TimeStep,
              policy_state: types.NestedArray,
              seed: Optional[types.Seed] = None) -> policy_step.PolicyStep:
    del seed  # The oracle is deterministic.
    observation = time_step.observation
    if time_step.is_first():
      self._reached_first = False
    if not self._reached_first:
      gap = observation['pos_agent'] - observation['pos_first_goal']
      self._reached_first = bool(gap.dot(gap) < self._switch_distance**2)
    goal = 'pos_second_goal' if self._reached_first else 'pos_first_goal'
    return policy_step.PolicyStep(np.array(observation[goal], np.float32),
                                  policy_state, ())
