"""Greedy policy of an energy-based model: the action with the best score."""
from typing import Callable, Optional

import gin
import tensorflow as tf
import tensorflow_probability as tfp
from tf_agents.networks import network
from tf_agents.policies import tf_policy
from tf_agents.trajectories import policy_step
from tf_agents.trajectories import time_step as ts
from tf_agents.typing import types

from ibc_agents import normalization
from ibc_agents import samplers


@gin.configurable
class IbcPolicy(tf_policy.TFPolicy):
  """Chooses argmax_a score(o, a) by sampling-based optimisation.

  The search starts from `num_action_samples` uniform actions inside the
  normalised sampling bounds and is refined by `sampler` (DFO by default,
  configured in gin). Observations are normalised before scoring and the
  chosen action is mapped back to the environment's units.
  """

  def __init__(self,
               time_step_spec: ts.TimeStep,
               action_spec: types.BoundedTensorSpec,
               cloning_network: network.Network,
               action_normalizer: normalization.ActionNormalizer,
               observation_normalizer: Optional[
                   normalization.ObservationNormalizer] = None,
               num_action_samples: int = 1024,
               sampler: Callable[..., tuple] = samplers.dfo_maximize,
               name: Optional[str] = None):
    if num_action_samples < 1:
      raise ValueError(
          f'num_action_samples must be positive, got {num_action_samples}.')
    super().__init__(time_step_spec, action_spec, name=name)
    self._cloning_network = cloning_network
    self._action_normalizer = action_normalizer
    self._observation_normalizer = observation_normalizer
    self._num_action_samples = num_action_samples
    self._sampler = sampler

  def _variables(self):
    return self._cloning_network.variables

  def _distribution(self, time_step: ts.TimeStep,
                    policy_state: types.NestedTensor) -> policy_step.PolicyStep:
    observation = time_step.observation
    if self._observation_normalizer is not None:
      observation = self._observation_normalizer(observation)
    batch_size = tf.shape(time_step.step_type)[0]
    low = -tf.ones_like(self._action_normalizer.low)
    high = tf.ones_like(self._action_normalizer.high)

    def score_fn(actions: tf.Tensor) -> tf.Tensor:
      return self._cloning_network((observation, actions), training=False)[0]

    initial = samplers.uniform_actions(
        batch_size, self._num_action_samples, low, high)
    best, _, _ = self._sampler(score_fn, initial, low, high)
    action = self._action_normalizer.denormalize(best)
    return policy_step.PolicyStep(
        tfp.distributions.Deterministic(loc=action), policy_state, ())
