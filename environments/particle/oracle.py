"""Scripted policy that solves the particle task (the demonstrator)."""
from typing import Optional

import gin
import numpy as np
from tf_agents.policies import py_policy
from tf_agents.trajectories import policy_step
from tf_agents.trajectories import time_step as ts
from tf_agents.typing import types

from environments.particle import particle_env


@gin.configurable
class ParticleOracle(py_policy.PyPolicy):
  """Targets the first goal until it has been reached, then the second goal.

  The rule and defaults are the original implementation's
  (`environments/particle/particle_oracles.py`, `ParticleOracle`): every step
  the particle is within `goal_threshold` (0.01) of the first goal counts,
  and after `wait_at_first_goal` (1) such steps the oracle targets the second
  goal for the rest of the episode. Whether the first goal was reached is not
  in the observation, so the oracle remembers it; the memory is cleared on
  every FIRST time step. Use one oracle per environment. Time steps are
  unbatched, as `PyDriver` passes them.
  """

  def __init__(self, env: particle_env.ParticleEnv,
               goal_threshold: float = 0.01,
               wait_at_first_goal: int = 1):
    """Creates the oracle.

    Args:
      env: the environment the oracle acts in.
      goal_threshold: distance to the first goal that counts as being there.
      wait_at_first_goal: steps to spend there before turning to the second.

    Raises:
      ValueError: If an argument is out of its valid range.
    """
    super().__init__(env.time_step_spec(), env.action_spec())
    if goal_threshold <= 0.0 or wait_at_first_goal < 1:
      raise ValueError('Need goal_threshold > 0 and wait_at_first_goal >= 1, '
                       f'got {goal_threshold} and {wait_at_first_goal}.')
    self._goal_threshold = goal_threshold
    self._wait_at_first_goal = wait_at_first_goal
    self._steps_at_first_goal = 0

  def _action(self,
              time_step: ts.TimeStep,
              policy_state: types.NestedArray,
              seed: Optional[types.Seed] = None) -> policy_step.PolicyStep:
    del seed  # The oracle is deterministic.
    observation = time_step.observation
    if time_step.is_first():
      self._steps_at_first_goal = 0
    gap = observation['pos_agent'] - observation['pos_first_goal']
    if gap.dot(gap) < self._goal_threshold**2:
      self._steps_at_first_goal += 1
    goal = ('pos_second_goal'
            if self._steps_at_first_goal >= self._wait_at_first_goal
            else 'pos_first_goal')
    return policy_step.PolicyStep(np.array(observation[goal], np.float32),
                                  policy_state, ())
