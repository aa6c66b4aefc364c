"""Greedy policy of an energy-based model: the action with the best score."""
from typing import Optional

import gin
import tensorflow as tf
from tf_agents.networks import network
from tf_agents.trajectories import time_step as ts
from tf_agents.typing import types

from ibc_agents import bc_common
from ibc_agents import checks
from ibc_agents import normalization
from ibc_agents import protocols
from ibc_agents import samplers
from ibc_agents.networks import late_fusion


@gin.configurable
class IbcPolicy(bc_common.NormalizedPolicyBase):
  """Chooses argmax_a score(o, a) by sampling-based optimisation.

  The search starts from `num_action_samples` uniform actions inside the
  normalised sampling bounds and is refined by `sampler` (DFO by default,
  configured in gin). Observations are normalised before scoring and the
  chosen action is mapped back to the environment's units. A
  `late_fusion.LateFusionEBM` encodes the observations once per action
  choice, however many samples and iterations the sampler scores.
  """

  def __init__(self,
               time_step_spec: ts.TimeStep,
               action_spec: types.BoundedTensorSpec,
               cloning_network: network.Network,
               action_normalizer: normalization.ActionNormalizer,
               observation_normalizer: Optional[
                   normalization.ObservationNormalizer] = None,
               num_action_samples: int = 1024,
               sampler: protocols.Sampler = samplers.dfo_maximize,
               name: Optional[str] = None):
    num_action_samples = checks.integer('IbcPolicy.num_action_samples',
                                        num_action_samples)
    super().__init__(time_step_spec, action_spec, cloning_network,
                     action_normalizer, observation_normalizer, name=name)
    self._num_action_samples = num_action_samples
    self._sampler = sampler

  def _choose_normalized_action(self, observation: types.NestedTensor,
                                batch_size: tf.Tensor) -> tf.Tensor:
    low = -tf.ones_like(self._action_normalizer.low)
    high = tf.ones_like(self._action_normalizer.high)
    encoded = late_fusion.encode(self._cloning_network, observation,
                                 training=False)
    initial = samplers.uniform_actions(
        batch_size, self._num_action_samples, low, high)
    best, _, _ = self._sampler(
        late_fusion.score_fn(self._cloning_network, encoded, training=False),
        initial, low, high)
    return best
