"""What the behavioural-cloning agents share: data handling and the train step.

`BCAgentBase` turns demonstration windows into (observation, normalised expert
action) pairs and takes the gradient step; a subclass supplies the loss and
its policies. `ExplicitPolicyBase` acts with a network that outputs the action
(or its distribution) directly, as the MSE and MDN baselines do.
"""
import abc
from typing import List, NamedTuple, Optional, Tuple

import gin
import tensorflow as tf
import tensorflow_probability as tfp
from tf_agents.agents import tf_agent
from tf_agents.networks import network
from tf_agents.policies import tf_policy
from tf_agents.trajectories import policy_step
from tf_agents.trajectories import time_step as ts
from tf_agents.trajectories import trajectory
from tf_agents.typing import types
from tf_agents.utils import common

from ibc_agents import normalization
from ibc_agents.networks import layers


class BCLossInfo(NamedTuple):
  per_example_loss: tf.Tensor  # [B]


@gin.configurable
class BCAgentBase(tf_agent.TFAgent):
  """Clones the last action of demonstration windows [B, T, ...].

  With a `training_data_spec` (single-step demonstrations) and a
  `time_step_spec` whose observations carry a history of T steps
  (`HistoryWrapper`), the whole window is the observation; otherwise the
  window's last step is. The target is the last step's action, mapped to
  [-1, 1] by the action normaliser. Subclasses implement `_make_policies` and
  `_per_example_loss`.

  With `jit_compile=True` the loss and its gradients (counter-example
  sampling included) are compiled by XLA as one function; the optimizer step
  stays outside. Summaries written inside the loss are then dropped (summary
  ops do not compile); the loss summaries of `train` remain.

  With `policy_averaging_decay` the policies act with an exponential moving
  average of the network's weights (`policy_network`), updated after every
  train step, rather than with the last weights: the last weights move with
  every minibatch, and an energy's argmax follows them.
  """

  def __init__(self,
               time_step_spec: ts.TimeStep,
               action_spec: types.BoundedTensorSpec,
               cloning_network: network.Network,
               optimizer: types.Optimizer,
               *,
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
               policy_averaging_decay: Optional[float] = None):
    """Creates the agent; subclasses add their own arguments.

    Args:
      time_step_spec: the policy's `TimeStep` spec (observations with their
        history dimension when the environment has a `HistoryWrapper`).
      action_spec: a single bounded rank-1 continuous action spec.
      cloning_network: the network trained to clone the demonstrations.
      optimizer: applies the loss gradients to `cloning_network`.
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
      jit_compile: compile the loss and its gradients with XLA.
      policy_averaging_decay: act with an exponential moving average of the
        weights with this decay in (0, 1); None: with the last weights.
    """
    tf.Module.__init__(self, name=name)
    if policy_averaging_decay is not None and not (
        0.0 < policy_averaging_decay < 1.0):
      raise ValueError(f'policy_averaging_decay must be in (0, 1), got '
                       f'{policy_averaging_decay}.')
    flat_action_spec = tf.nest.flatten(action_spec)
    if len(flat_action_spec) != 1 or flat_action_spec[0].shape.rank != 1:
      raise ValueError(
          f'{type(self).__name__} needs a single rank-1 continuous action, '
          f'got {action_spec}.')
    self._cloning_network = cloning_network
    self._optimizer = optimizer
    self._action_normalizer = (
        action_normalizer or normalization.ActionNormalizer(action_spec))
    self._observation_normalizer = observation_normalizer
    self._gradient_clipping = gradient_clipping
    self._loss_and_gradients_fn = (
        tf.function(self._loss_and_gradients_without_summaries,
                    jit_compile=True)
        if jit_compile else self._loss_and_gradients)
    history_length = _history_length(time_step_spec, training_data_spec)
    self._uses_history = training_data_spec is not None
    network_input_spec = self._network_input_spec(time_step_spec, action_spec)
    cloning_network.create_variables(network_input_spec)
    self._policy_averaging_decay = policy_averaging_decay
    self._policy_network = cloning_network
    if policy_averaging_decay is not None:
      self._policy_network = cloning_network.copy(
          name=f'{cloning_network.name}_averaged')
      self._policy_network.create_variables(network_input_spec)
      common.soft_variables_update(cloning_network.variables,
                                   self._policy_network.variables, tau=1.0)
    policy, collect_policy = self._make_policies(time_step_spec, action_spec)
    super().__init__(
        time_step_spec, action_spec, policy, collect_policy,
        train_sequence_length=history_length,
        training_data_spec=training_data_spec,
        debug_summaries=debug_summaries,
        summarize_grads_and_vars=summarize_grads_and_vars,
        train_step_counter=train_step_counter)

  @property
  def cloning_network(self) -> network.Network:
    return self._cloning_network

  @property
  def policy_network(self) -> network.Network:
    """The network the policies act with: the averaged one, if averaging."""
    return self._policy_network

  @property
  def action_normalizer(self) -> normalization.ActionNormalizer:
    return self._action_normalizer

  @property
  def observation_normalizer(
      self) -> Optional[normalization.ObservationNormalizer]:
    return self._observation_normalizer

  def _network_input_spec(self, time_step_spec: ts.TimeStep,
                          action_spec: types.BoundedTensorSpec
                          ) -> types.NestedTensorSpec:
    """What the cloning network takes; explicit networks take observations."""
    del action_spec
    return time_step_spec.observation

  @abc.abstractmethod
  def _make_policies(self, time_step_spec: ts.TimeStep,
                     action_spec: types.BoundedTensorSpec
                     ) -> Tuple[tf_policy.TFPolicy, tf_policy.TFPolicy]:
    """The greedy policy and the collect policy on `self.policy_network`."""

  @abc.abstractmethod
  def _per_example_loss(self, observation: types.NestedTensor,
                        expert_action: tf.Tensor,
                        training: bool) -> tf.Tensor:
    """Loss [B] of normalised observations and expert actions [B, A]."""

  def _loss_and_gradients(
      self, experience: trajectory.Trajectory, weights: Optional[tf.Tensor]
  ) -> Tuple[tf_agent.LossInfo, List[tf.Tensor]]:
    """The training loss and its gradients for the network's variables.

    Spectral normalisation's power iteration takes its one step per train
    step here, before anything of the step calls the network.
    """
    layers.advance_power_iterations(self._cloning_network)
    with tf.GradientTape() as tape:
      loss_info = self._loss(experience, weights=weights, training=True)
    return loss_info, tape.gradient(
        loss_info.loss, self._cloning_network.trainable_weights)

  def _loss_and_gradients_without_summaries(
      self, experience: trajectory.Trajectory, weights: Optional[tf.Tensor]
  ) -> Tuple[tf_agent.LossInfo, List[tf.Tensor]]:
    """`_loss_and_gradients` for XLA, which cannot compile summary ops."""
    with tf.summary.record_if(False):
      return self._loss_and_gradients(experience, weights)

  def _train(self, experience: trajectory.Trajectory,
             weights: Optional[tf.Tensor] = None) -> tf_agent.LossInfo:
    variables = self._cloning_network.trainable_weights
    loss_info, gradients = self._loss_and_gradients_fn(experience, weights)
    if self._gradient_clipping is not None:
      gradients, _ = tf.clip_by_global_norm(gradients, self._gradient_clipping)
    grads_and_vars = list(zip(gradients, variables))
    if self.summarize_grads_and_vars:
      common.add_variables_summaries(grads_and_vars, self.train_step_counter)
      common.add_gradients_summaries(grads_and_vars, self.train_step_counter)
    self._optimizer.apply_gradients(grads_and_vars)
    if self._policy_averaging_decay is not None:
      self._update_policy_average()
    if self.summaries_enabled:  # as `TFAgent._apply_loss` writes it
      common.summarize_scalar_dict({'loss': loss_info.loss},
                                   step=self.train_step_counter,
                                   name_scope='Losses/')
    self.train_step_counter.assign_add(1)
    return loss_info

  def _update_policy_average(self) -> None:
    """Moves the policy's weights towards the trained ones.

    The decay ramps up as (1 + k) / (10 + k) over the first steps k, so the
    average does not linger on the initial weights. That makes it a tensor,
    which `common.soft_variables_update` refuses inside `tf.function` (its
    range check on `tau` raises), hence this loop.
    """
    step = tf.cast(self.train_step_counter, tf.float32)
    decay = tf.minimum(self._policy_averaging_decay, (1.0 + step) / (10.0 + step))
    for averaged, variable in zip(self._policy_network.variables,
                                  self._cloning_network.variables):
      averaged.assign(decay * averaged + (1.0 - decay) * variable)

  def _loss(self, experience: trajectory.Trajectory,
            weights: Optional[tf.Tensor] = None,
            training: bool = False) -> tf_agent.LossInfo:
    expert_action = self._action_normalizer.normalize(
        experience.action[:, -1])  # [B, A]
    per_example_loss = self._per_example_loss(
        self._observation(experience), expert_action, training)
    aggregated = common.aggregate_losses(
        per_example_loss=per_example_loss, sample_weight=weights,
        regularization_loss=self._cloning_network.losses)
    return tf_agent.LossInfo(aggregated.total_loss,
                             BCLossInfo(per_example_loss))

  def _observation(self, experience: trajectory.Trajectory
                   ) -> types.NestedTensor:
    """The (normalised) observation the policy sees: [B, T, ...] or [B, ...]."""
    observation = experience.observation
    if not self._uses_history:
      observation = tf.nest.map_structure(lambda x: x[:, -1], observation)
    if self._observation_normalizer is not None:
      observation = self._observation_normalizer(observation)
    return observation


class NormalizedPolicyBase(tf_policy.TFPolicy):
  """A greedy policy working in normalised units.

  Observations are normalised, the subclass chooses a normalised action
  [B, A], and that action is mapped back to the environment's units and
  clipped to the action spec. A subclass with a `policy_state_spec` carries
  its state from step to step (e.g. the last action chosen).
  """

  def __init__(self,
               time_step_spec: ts.TimeStep,
               action_spec: types.BoundedTensorSpec,
               cloning_network: network.Network,
               action_normalizer: normalization.ActionNormalizer,
               observation_normalizer: Optional[
                   normalization.ObservationNormalizer] = None,
               policy_state_spec: types.NestedTensorSpec = (),
               name: Optional[str] = None):
    super().__init__(time_step_spec, action_spec,
                     policy_state_spec=policy_state_spec, name=name)
    self._cloning_network = cloning_network
    self._action_normalizer = action_normalizer
    self._observation_normalizer = observation_normalizer

  def _variables(self):
    return self._cloning_network.variables

  @abc.abstractmethod
  def _choose_normalized_action(
      self, observation: types.NestedTensor, time_step: ts.TimeStep,
      policy_state: types.NestedTensor
  ) -> Tuple[tf.Tensor, types.NestedTensor]:
    """(action [B, A] in normalised units, next policy state).

    `observation` is the normalised `time_step.observation`.
    """

  def _distribution(self, time_step: ts.TimeStep,
                    policy_state: types.NestedTensor) -> policy_step.PolicyStep:
    # A NaN or infinite value would otherwise surface as an unrelated error
    # deep in the search, or as a NaN action.
    observation = tf.nest.map_structure(_checked_finite,
                                        time_step.observation)
    if self._observation_normalizer is not None:
      observation = self._observation_normalizer(observation)
    normalized_action, policy_state = self._choose_normalized_action(
        observation, time_step, policy_state)
    action = self._action_normalizer.denormalize(normalized_action)
    return policy_step.PolicyStep(
        tfp.distributions.Deterministic(loc=action), policy_state, ())


def _checked_finite(leaf: tf.Tensor) -> tf.Tensor:
  """`leaf`, after checking that a floating-point leaf is finite."""
  if not leaf.dtype.is_floating:
    return leaf
  return tf.debugging.assert_all_finite(
      leaf, 'The policy got a non-finite (NaN or infinite) observation value.')


class ExplicitPolicyBase(NormalizedPolicyBase):
  """Acts with an action read off a network's output: no search at act time."""

  @abc.abstractmethod
  def _normalized_action(self, network_output: types.NestedTensor
                         ) -> tf.Tensor:
    """The action [B, A] in normalised units chosen from the network output."""

  def _choose_normalized_action(
      self, observation: types.NestedTensor, time_step: ts.TimeStep,
      policy_state: types.NestedTensor
  ) -> Tuple[tf.Tensor, types.NestedTensor]:
    del time_step
    output, _ = self._cloning_network(observation, training=False)
    return self._normalized_action(output), policy_state


def _history_length(time_step_spec: ts.TimeStep,
                    training_data_spec: Optional[trajectory.Trajectory]
                    ) -> Optional[int]:
  """The T of [B, T, ...] experience; None when any T is accepted."""
  if training_data_spec is None:
    return None
  history_lengths = set()
  for policy_spec, data_spec in zip(
      tf.nest.flatten(time_step_spec.observation),
      tf.nest.flatten(training_data_spec.observation)):
    if policy_spec.shape[1:] != data_spec.shape or policy_spec.shape.rank < 1:
      raise ValueError(
          f'With a training_data_spec, policy observations must be the '
          f'demonstration observations with a history dimension in front; got '
          f'{policy_spec.shape} for data {data_spec.shape}.')
    history_lengths.add(policy_spec.shape[0])
  if len(history_lengths) != 1:
    raise ValueError(f'Observation leaves disagree on the history length: '
                     f'{sorted(history_lengths)}.')
  return history_lengths.pop()
