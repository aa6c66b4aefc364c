"""Implicit behavioural cloning agent (Florence et al., CoRL 2021)."""
from typing import Callable, Optional, Tuple

import gin
import tensorflow as tf
from tf_agents.networks import network
from tf_agents.policies import tf_policy
from tf_agents.trajectories import time_step as ts
from tf_agents.trajectories import trajectory
from tf_agents.typing import types

from ibc_agents import bc_common
from ibc_agents import checks
from ibc_agents import ibc_policy
from ibc_agents import losses
from ibc_agents import normalization
from ibc_agents import protocols
from ibc_agents import samplers
from ibc_agents import scoring


@gin.configurable
class ImplicitBCAgent(bc_common.BCAgentBase):
  """Trains an energy-based model with InfoNCE against counter-examples.

  Counter-examples are drawn uniformly inside the normalised action bounds;
  a `counter_example_sampler` (DFO or Langevin, as for the policy) can refine
  a fraction of them into samples of the current model, which makes them hard
  negatives, and another fraction can be drawn near the demonstrated action,
  which sharpens the energy around it where uniform samples are sparse. With
  Langevin counter-examples a gradient penalty keeps the
  energy smooth (IBC paper, Appendix B.3).

  `train(experience)` takes a batched `Trajectory` [B, T, ...] as TF-Agents
  replay buffers produce it; `BCAgentBase` describes how the observation and
  the target action are taken from it.
  """

  def __init__(self,
               time_step_spec: ts.TimeStep,
               action_spec: types.BoundedTensorSpec,
               cloning_network: network.Network,
               optimizer: types.Optimizer,
               num_counter_examples: int = 256,
               action_normalizer: Optional[
                   normalization.ActionNormalizer] = None,
               observation_normalizer: Optional[
                   normalization.ObservationNormalizer] = None,
               training_data_spec: Optional[trajectory.Trajectory] = None,
               gradient_clipping: Optional[float] = None,
               debug_summaries: bool = False,
               summarize_grads_and_vars: bool = False,
               train_step_counter: Optional[tf.Variable] = None,
               name: Optional[str] = None,
               jit_compile: bool = False,
               policy_averaging_decay: Optional[float] = None,
               counter_example_sampler: Optional[protocols.Sampler] = None,
               fraction_refined: float = 1.0,
               sampler_under_tape: bool = False,
               gradient_penalty: Optional[
                   Callable[[tf.Tensor], tf.Tensor]] = None,
               fraction_near_expert: float = 0.0,
               near_expert_std: float = 0.1):
    """Creates the agent.

    Args:
      time_step_spec: the policy's `TimeStep` spec (observations with their
        history dimension when the environment has a `HistoryWrapper`).
      action_spec: a single bounded rank-1 continuous action spec.
      cloning_network: the energy network, e.g. `MLPEBM`: scores (higher is
        better) of actions [B, N, A] for observations.
      optimizer: applies the loss gradients to `cloning_network`.
      num_counter_examples: N counter-examples per demonstrated action.
      action_normalizer: maps actions to [-1, 1]; default: from the spec's
        bounds.
      observation_normalizer: standardises observations; default: none.
      training_data_spec: the spec of single demonstration steps, when they
        differ from `time_step_spec`'s observations (history stacked by the
        replay windows).
      gradient_clipping: global-norm clip of the gradients; None: no clip.
      debug_summaries: write debug summaries.
      summarize_grads_and_vars: write gradient and variable summaries.
      train_step_counter: incremented by every `train` call; default: a new
        variable.
      name: the agent's name scope.
      jit_compile: compile the loss and its gradients, counter-example
        sampling included, with XLA.
      policy_averaging_decay: act with an exponential moving average of the
        weights with this decay in (0, 1); None: with the last weights.
      counter_example_sampler: refines uniform counter-examples; called like
        the policy's samplers, (score_fn, actions [B, M, A], low, high) ->
        (best, actions [B, M, A], scores). None keeps them uniform.
      fraction_refined: fraction of the N counter-examples it refines.
      sampler_under_tape: let gradients flow through the sampler's moves.
      gradient_penalty: maps score gradients at the refined counter-examples
        (all of them when none are refined) [B, N_refined, A] to a
        per-example penalty [B] added to the loss (e.g.
        `losses.gradient_penalty`).
      fraction_near_expert: fraction of the N counter-examples drawn as the
        demonstrated action plus Gaussian noise (clipped to the bounds); taken
        from the uniform ones that are not refined.
      near_expert_std: that noise's standard deviation, in normalised action
        units ([-1, 1]).
    """
    num_counter_examples = checks.integer(
        f'{type(self).__name__}.num_counter_examples', num_counter_examples)
    if not 0.0 <= fraction_refined <= 1.0:
      raise ValueError(
          f'fraction_refined must be in [0, 1], got {fraction_refined}.')
    if not 0.0 <= fraction_near_expert <= 1.0:
      raise ValueError(f'fraction_near_expert must be in [0, 1], got '
                       f'{fraction_near_expert}.')
    if near_expert_std <= 0.0:
      raise ValueError(
          f'near_expert_std must be positive, got {near_expert_std}.')
    super().__init__(
        time_step_spec, action_spec, cloning_network, optimizer,
        action_normalizer=action_normalizer,
        observation_normalizer=observation_normalizer,
        training_data_spec=training_data_spec,
        gradient_clipping=gradient_clipping,
        debug_summaries=debug_summaries,
        summarize_grads_and_vars=summarize_grads_and_vars,
        train_step_counter=train_step_counter,
        name=name,
        jit_compile=jit_compile,
        policy_averaging_decay=policy_averaging_decay)
    self._num_counter_examples = num_counter_examples
    self._counter_example_sampler = counter_example_sampler
    self._num_refined = (0 if counter_example_sampler is None else
                         int(round(fraction_refined * num_counter_examples)))
    self._num_near_expert = int(round(fraction_near_expert *
                                      num_counter_examples))
    if self._num_refined + self._num_near_expert > num_counter_examples:
      raise ValueError(
          f'fraction_refined ({fraction_refined}) and fraction_near_expert '
          f'({fraction_near_expert}) together exceed 1.')
    self._near_expert_std = near_expert_std
    self._sampler_under_tape = sampler_under_tape
    self._gradient_penalty = gradient_penalty

  def _network_input_spec(self, time_step_spec: ts.TimeStep,
                          action_spec: types.BoundedTensorSpec
                          ) -> types.NestedTensorSpec:
    return (time_step_spec.observation, action_spec)

  def _make_policies(self, time_step_spec: ts.TimeStep,
                     action_spec: types.BoundedTensorSpec
                     ) -> Tuple[tf_policy.TFPolicy, tf_policy.TFPolicy]:
    policy = ibc_policy.IbcPolicy(
        time_step_spec, action_spec, self.policy_network,
        action_normalizer=self._action_normalizer,
        observation_normalizer=self._observation_normalizer)
    return policy, policy

  def _per_example_loss(self, observation: types.NestedTensor,
                        expert_action: tf.Tensor,
                        training: bool) -> tf.Tensor:
    """InfoNCE [B] of the expert action against the counter-examples.

    The observations are encoded once (`scoring.encode`); the
    counter-example sampler, the loss and the gradient penalty all score
    their actions against that embedding.
    """
    encoded = scoring.encode(self._cloning_network, observation, training)
    score_fn = scoring.score_fn(self._cloning_network, encoded, training)
    counter_examples = self._counter_examples(encoded, expert_action)
    candidates = tf.concat(
        [counter_examples, expert_action[:, None, :]], axis=1)  # [B, N+1, A]
    scores = score_fn(candidates)  # [B, N+1]
    loss = losses.info_nce(scores)
    if self._gradient_penalty is not None:
      # On the refined counter-examples when there are some (the chains'
      # final samples), else on all of them.
      penalised = counter_examples[:, :self._num_refined or None]
      _, gradients = samplers.score_gradients(score_fn, penalised)
      penalty = self._gradient_penalty(gradients)
      loss += penalty
      self._scalar_summary('gradient_penalty', tf.reduce_mean(penalty))
      self._scalar_summary('counter_example_gradient_norm', tf.reduce_mean(
          tf.norm(gradients, axis=-1)))
    is_best = tf.equal(tf.argmax(scores, axis=1, output_type=tf.int32),
                       self._num_counter_examples)
    self._scalar_summary('info_nce_accuracy',
                         tf.reduce_mean(tf.cast(is_best, tf.float32)))
    self._scalar_summary('expert_score', tf.reduce_mean(scores[:, -1]))
    self._scalar_summary('counter_example_score',
                         tf.reduce_mean(scores[:, :-1]))
    return loss

  def _counter_examples(self, encoded: types.NestedTensor,
                        expert_action: tf.Tensor) -> tf.Tensor:
    """Counter-examples [B, N, A]: refined by the sampler, uniform, near the expert.

    `encoded` is `scoring.encode`'s output for the observations.
    """
    batch_size = tf.shape(expert_action)[0]
    high = tf.ones_like(self._action_normalizer.high)
    proposals = samplers.uniform_actions(
        batch_size, self._num_counter_examples - self._num_near_expert,
        -high, high)  # [B, N - N_near, A]
    if self._num_near_expert:
      near_expert = tf.clip_by_value(
          expert_action[:, None, :] + self._near_expert_std * tf.random.normal(
              [batch_size, self._num_near_expert, tf.shape(high)[0]]),
          -high, high)  # [B, N_near, A]
      proposals = tf.concat([proposals, near_expert], axis=1)
    if self._num_refined == 0:
      return proposals

    score_fn = scoring.score_fn(self._cloning_network, encoded,
                                    training=False)
    _, refined, refined_scores = self._counter_example_sampler(
        score_fn, proposals[:, :self._num_refined], -high, high)
    # Where the sampler's chains end: their energy, and (debug summaries,
    # one more backward pass) how steep the energy still is there.
    self._scalar_summary('refined_counter_example_score',
                         tf.reduce_mean(refined_scores))
    if self._debug_summaries:
      _, gradients = samplers.score_gradients(score_fn, refined)
      self._scalar_summary('refined_counter_example_gradient_norm',
                           tf.reduce_mean(tf.norm(gradients, axis=-1)))
    if not self._sampler_under_tape:
      refined = tf.stop_gradient(refined)
    return tf.concat([refined, proposals[:, self._num_refined:]], axis=1)

  def _scalar_summary(self, name: str, value: tf.Tensor) -> None:
    if self.summaries_enabled:
      tf.compat.v2.summary.scalar(name, value, step=self.train_step_counter)


@gin.configurable
class AutoregressiveImplicitBCAgent(ImplicitBCAgent):
  """IBC with one InfoNCE per action dimension, for autoregressive energies.

  The network scores dimension j given the observation and the action's
  dimensions up to j (`ar_mlp_ebm.ARMLPEBM`). For each j the demonstrated
  value of dimension j competes with the counter-examples' values of it,
  the dimensions before j held at the demonstrated ones, as the
  autoregressive search (`samplers.autoregressive_dfo`) will hold them at
  the chosen ones. The loss is the mean over dimensions. Counter-examples
  are uniform (`counter_example_sampler` and `gradient_penalty` are not
  used); the policy acts with the configured `IbcPolicy.sampler`, which
  should be `autoregressive_dfo`.
  """

  def _per_example_loss(self, observation: types.NestedTensor,
                        expert_action: tf.Tensor,
                        training: bool) -> tf.Tensor:
    """Mean over dimensions of InfoNCE [B] of each demonstrated value."""
    encoded = scoring.encode(self._cloning_network, observation, training)
    score_fn = scoring.score_fn(self._cloning_network, encoded, training)
    batch_size = tf.shape(expert_action)[0]
    high = tf.ones_like(self._action_normalizer.high)
    counter_examples = samplers.uniform_actions(
        batch_size, self._num_counter_examples, -high, high)  # [B, N, A]
    candidates = tf.concat(
        [counter_examples, expert_action[:, None, :]], axis=1)  # [B, N+1, A]
    expert = tf.tile(expert_action[:, None, :],
                     [1, self._num_counter_examples + 1, 1])  # [B, N+1, A]
    action_size = expert_action.shape[-1]
    per_dimension = []
    for dimension in range(action_size):
      is_dimension = tf.one_hot(dimension, action_size)
      mixed = expert * (1.0 - is_dimension) + candidates * is_dimension
      per_dimension.append(
          losses.info_nce(score_fn(mixed, dimension=dimension)))
    loss = tf.reduce_mean(tf.stack(per_dimension, axis=-1), axis=-1)
    self._scalar_summary('info_nce_per_dimension', tf.reduce_mean(loss))
    return loss
