"""Greedy policy of an energy-based model: the action with the best score."""
from typing import Optional, Tuple

import gin
import tensorflow as tf
from tf_agents.networks import network
from tf_agents.trajectories import time_step as ts
from tf_agents.typing import types

from ibc_agents import bc_common
from ibc_agents import checks
from ibc_agents import keyed_random
from ibc_agents import normalization
from ibc_agents import protocols
from ibc_agents import samplers
from ibc_agents import scoring


@gin.configurable
class IbcPolicy(bc_common.NormalizedPolicyBase):
  """Chooses argmax_a score(o, a) by sampling-based optimisation.

  The search starts from `num_action_samples` uniform actions inside the
  normalised sampling bounds and is refined by `sampler` (DFO by default,
  configured in gin). Observations are normalised before scoring and the
  chosen action is mapped back to the environment's units. A
  `late_fusion.LateFusionEBM` encodes the observations once per action
  choice, however many samples and iterations the sampler scores.

  The search's random numbers are keyed by each row's observation and
  `draw_seed` (`keyed_random.RowKeyedDraws`): an observation gets the same
  action whichever rows share its batch, so an evaluation's result does not
  depend on how many episodes act at once, and repeats exactly.
  `draw_seed=None` draws from `tf.random`'s stream instead.

  Options meant to make an action cheaper (measured in docs/benchmarks.md,
  "Acting at a robot's rate"; on the CPU tasks there, neither helped):
  - `warm_start_samples` K > 0: the policy keeps the action it chose last
    (its state, [B, A] in normalised units) and draws K of the samples
    around it (Gaussian, `warm_start_std`), at every step but an episode's
    first, for tasks whose actions change smoothly. On the particle task
    it holds on to the first goal and loses success.
  - `jit_compile`: the search (encoder and sampler) is compiled by XLA; the
    exported SavedModel keeps the compiled function. Slower than without on
    a CPU here; meant for accelerators.
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
               warm_start_samples: int = 0,
               warm_start_std: float = 0.05,
               jit_compile: bool = False,
               draw_seed: Optional[int] = 0,
               name: Optional[str] = None):
    num_action_samples = checks.integer('IbcPolicy.num_action_samples',
                                        num_action_samples)
    warm_start_samples = checks.integer(
        'IbcPolicy.warm_start_samples', warm_start_samples, minimum=0)
    if warm_start_samples > num_action_samples:
      raise ValueError(
          f'IbcPolicy.warm_start_samples ({warm_start_samples}) exceeds '
          f'IbcPolicy.num_action_samples ({num_action_samples}).')
    checks.real('IbcPolicy.warm_start_std', warm_start_std, low=0.0)
    state_spec = (tf.TensorSpec(action_spec.shape, tf.float32,
                                name='last_normalized_action')
                  if warm_start_samples else ())
    super().__init__(time_step_spec, action_spec, cloning_network,
                     action_normalizer, observation_normalizer,
                     policy_state_spec=state_spec, name=name)
    self._num_action_samples = num_action_samples
    self._sampler = sampler
    self._warm_start_samples = warm_start_samples
    self._warm_start_std = warm_start_std
    self._draw_seed = (None if draw_seed is None else
                       checks.integer('IbcPolicy.draw_seed', draw_seed,
                                      minimum=0))
    self._search = (tf.function(self._best_action, jit_compile=True)
                    if jit_compile else self._best_action)

  def _choose_normalized_action(
      self, observation: types.NestedTensor, time_step: ts.TimeStep,
      policy_state: types.NestedTensor
  ) -> Tuple[tf.Tensor, types.NestedTensor]:
    draws = (keyed_random.TF_RANDOM if self._draw_seed is None else
             keyed_random.RowKeyedDraws(keyed_random.observation_keys(
                 time_step.observation, self._draw_seed)))
    initial = samplers.uniform_actions(
        tf.shape(time_step.step_type)[0], self._num_action_samples,
        *self._bounds(), draws=draws)
    if not self._warm_start_samples:
      return self._search(observation, initial, draws), policy_state
    initial = self._warm_started(initial, time_step.is_first(), policy_state,
                                 draws)
    best = self._search(observation, initial, draws)
    return best, best

  def _bounds(self) -> Tuple[tf.Tensor, tf.Tensor]:
    """The normalised sampling bounds, low and high [A]."""
    return (-tf.ones_like(self._action_normalizer.low),
            tf.ones_like(self._action_normalizer.high))

  def _warm_started(self, initial: tf.Tensor, is_first: tf.Tensor,
                    last_action: tf.Tensor,
                    draws: protocols.Draws) -> tf.Tensor:
    """`initial` [B, N, A] with its first K samples around `last_action`
    [B, A], except in the rows starting an episode (`is_first` [B])."""
    low, high = self._bounds()
    uniform = initial[:, :self._warm_start_samples]
    near = tf.clip_by_value(
        last_action[:, None, :] + self._warm_start_std *
        draws.normal(tf.shape(uniform)), low, high)
    seeded = tf.where(is_first[:, None, None], uniform, near)
    return tf.concat([seeded, initial[:, self._warm_start_samples:]], axis=1)

  def _best_action(self, observation: types.NestedTensor,
                   initial: tf.Tensor, draws: protocols.Draws) -> tf.Tensor:
    """The sampler's best action [B, A] from the samples `initial` [B, N, A]."""
    encoded = scoring.encode(self._cloning_network, observation,
                                 training=False)
    best, _, _ = self._sampler(
        scoring.score_fn(self._cloning_network, encoded, training=False),
        initial, *self._bounds(), draws=draws)
    return best
