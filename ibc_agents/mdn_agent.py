"""Explicit behavioural cloning with a mixture density network (MDN baseline).

A mixture of Gaussians can represent several modes of the expert's behaviour,
unlike MSE regression (Bishop, "Mixture Density Networks", 1994).
"""
from typing import Optional, Tuple

import gin
import tensorflow as tf
from tf_agents.networks import network
from tf_agents.policies import tf_policy
from tf_agents.trajectories import time_step as ts
from tf_agents.typing import types

from ibc_agents import bc_common
from ibc_agents import normalization
from ibc_agents.networks import mlp_mdn


class MdnPolicy(bc_common.ExplicitPolicyBase):
  """Acts with the most likely component's mean, or a draw from the mixture.

  The network must return `mlp_mdn.MixtureParameters` over normalised actions.
  The greedy choice (`sample=False`) is deterministic given the observation;
  `sample=True` draws from the whole mixture, for data collection.
  """

  def __init__(self,
               time_step_spec: ts.TimeStep,
               action_spec: types.BoundedTensorSpec,
               cloning_network: network.Network,
               action_normalizer: normalization.ActionNormalizer,
               observation_normalizer: Optional[
                   normalization.ObservationNormalizer] = None,
               sample: bool = False,
               name: Optional[str] = None):
    super().__init__(time_step_spec, action_spec, cloning_network,
                     action_normalizer, observation_normalizer, name=name)
    self._sample = sample

  def _normalized_action(self, network_output: mlp_mdn.MixtureParameters
                         ) -> tf.Tensor:
    if self._sample:
      return mlp_mdn.mixture_distribution(network_output).sample()
    return mlp_mdn.most_likely_mean(network_output)


@gin.configurable
class MdnBCAgent(bc_common.BCAgentBase):
  """Fits a Gaussian mixture to the expert action by maximum likelihood.

  The network (such as `MLPMDN`) returns `mlp_mdn.MixtureParameters` for the
  observation. `policy` is greedy (mean of the most likely component);
  `collect_policy` samples from the mixture. It takes the constructor
  arguments of `BCAgentBase`.
  """

  def _make_policies(self, time_step_spec: ts.TimeStep,
                     action_spec: types.BoundedTensorSpec
                     ) -> Tuple[tf_policy.TFPolicy, tf_policy.TFPolicy]:
    return tuple(
        MdnPolicy(time_step_spec, action_spec, self.policy_network,
                  self._action_normalizer, self._observation_normalizer,
                  sample=sample)
        for sample in (False, True))

  def _per_example_loss(self, observation: types.NestedTensor,
                        expert_action: tf.Tensor,
                        training: bool) -> tf.Tensor:
    """Negative log-likelihood [B] of the expert action under the mixture."""
    parameters, _ = self._cloning_network(observation, training=training)
    return -mlp_mdn.mixture_distribution(parameters).log_prob(expert_action)
