"""Explicit behavioural cloning by mean-squared-error regression."""
from typing import Tuple

import gin
import tensorflow as tf
from tf_agents.policies import tf_policy
from tf_agents.trajectories import time_step as ts
from tf_agents.typing import types

from ibc_agents import bc_common


class MsePolicy(bc_common.ExplicitPolicyBase):
  """Acts with the network's regressed action [B, A], denormalised, clipped."""

  def _normalized_action(self, network_output: tf.Tensor) -> tf.Tensor:
    return network_output


@gin.configurable
class MseBCAgent(bc_common.BCAgentBase):
  """Regresses the expert action with mean squared error in normalised units.

  The baseline the IBC paper compares against: a network such as `MLPMSE`
  maps the observation to one action [B, A]. It takes the constructor
  arguments of `BCAgentBase`.
  """

  def _make_policies(self, time_step_spec: ts.TimeStep,
                     action_spec: types.BoundedTensorSpec
                     ) -> Tuple[tf_policy.TFPolicy, tf_policy.TFPolicy]:
    policy = MsePolicy(time_step_spec, action_spec, self.policy_network,
                       self._action_normalizer, self._observation_normalizer)
    return policy, policy

  def _per_example_loss(self, observation: types.NestedTensor,
                        expert_action: tf.Tensor,
                        training: bool) -> tf.Tensor:
    """Squared error [B], averaged over action dimensions."""
    predicted, _ = self._cloning_network(observation, training=training)
    return tf.reduce_mean(tf.square(predicted - expert_action), axis=-1)
