"""Implicit behavioural cloning agent (Florence et al., CoRL 2021)."""
from typing import NamedTuple, Optional

import gin
import tensorflow as tf
from tf_agents.agents import tf_agent
from tf_agents.networks import network
from tf_agents.trajectories import time_step as ts
from tf_agents.trajectories import trajectory
from tf_agents.typing import types
from tf_agents.utils import common

from ibc_agents import ibc_policy
from ibc_agents import losses
from ibc_agents import normalization
from ibc_agents import samplers


class ImplicitBCLossInfo(NamedTuple):
  per_example_loss: tf.Tensor  # [B]


@gin.configurable
class ImplicitBCAgent(tf_agent.TFAgent):
  """Trains an energy-based model with InfoNCE on uniform counter-examples.

  `train(experience)` takes a batched `Trajectory` [B, T, ...] as TF-Agents
  replay buffers produce it. With a `training_data_spec` (single-step
  demonstrations) and a `time_step_spec` whose observations carry a history
  of T steps (`HistoryWrapper`), the whole window is the observation;
  otherwise the window's last step is. The target is the last step's action.
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
               name: Optional[str] = None):
    tf.Module.__init__(self, name=name)
    if num_counter_examples < 1:
      raise ValueError(
          f'num_counter_examples must be positive, got {num_counter_examples}.')
    flat_action_spec = tf.nest.flatten(action_spec)
    if len(flat_action_spec) != 1 or flat_action_spec[0].shape.rank != 1:
      raise ValueError(
          f'ImplicitBCAgent needs a single rank-1 continuous action, got '
          f'{action_spec}.')
    self._cloning_network = cloning_network
    self._optimizer = optimizer
    self._num_counter_examples = num_counter_examples
    self._action_normalizer = (
        action_normalizer or normalization.ActionNormalizer(action_spec))
    self._observation_normalizer = observation_normalizer
    self._gradient_clipping = gradient_clipping
    history_length = _history_length(time_step_spec, training_data_spec)
    self._uses_history = training_data_spec is not None
    cloning_network.create_variables(
        (time_step_spec.observation, action_spec))
    policy = ibc_policy.IbcPolicy(
        time_step_spec, action_spec, cloning_network,
        action_normalizer=self._action_normalizer,
        observation_normalizer=observation_normalizer)
    super().__init__(
        time_step_spec, action_spec, policy, policy,
        train_sequence_length=history_length,
        training_data_spec=training_data_spec,
        debug_summaries=debug_summaries,
        summarize_grads_and_vars=summarize_grads_and_vars,
        train_step_counter=train_step_counter)

  @property
  def cloning_network(self) -> network.Network:
    return self._cloning_network

  def _train(self, experience: trajectory.Trajectory,
             weights: Optional[tf.Tensor] = None) -> tf_agent.LossInfo:
    variables = self._cloning_network.trainable_weights
    with tf.GradientTape() as tape:
      loss_info = self._loss(experience, weights=weights, training=True)
    gradients = tape.gradient(loss_info.loss, variables)
    if self._gradient_clipping is not None:
      gradients, _ = tf.clip_by_global_norm(gradients, self._gradient_clipping)
    grads_and_vars = list(zip(gradients, variables))
    if self.summarize_grads_and_vars:
      common.add_variables_summaries(grads_and_vars, self.train_step_counter)
      common.add_gradients_summaries(grads_and_vars, self.train_step_counter)
    self._optimizer.apply_gradients(grads_and_vars)
    self.train_step_counter.assign_add(1)
    return loss_info

  def _loss(self, experience: trajectory.Trajectory,
            weights: Optional[tf.Tensor] = None,
            training: bool = False) -> tf_agent.LossInfo:
    observation = self._observation(experience)
    expert_action = self._action_normalizer.normalize(
        experience.action[:, -1])  # [B, A]
    batch_size = tf.shape(expert_action)[0]
    low = -tf.ones_like(self._action_normalizer.low)
    counter_examples = samplers.uniform_actions(
        batch_size, self._num_counter_examples, low, -low)  # [B, N, A]
    candidates = tf.concat(
        [counter_examples, expert_action[:, None, :]], axis=1)  # [B, N+1, A]
    scores, _ = self._cloning_network(
        (observation, candidates), training=training)  # [B, N+1]
    per_example_loss = losses.info_nce(scores)
    aggregated = common.aggregate_losses(
        per_example_loss=per_example_loss, sample_weight=weights,
        regularization_loss=self._cloning_network.losses)
    if self.summaries_enabled:
      is_best = tf.equal(tf.argmax(scores, axis=1, output_type=tf.int32),
                         self._num_counter_examples)
      tf.compat.v2.summary.scalar(
          'info_nce_accuracy', tf.reduce_mean(tf.cast(is_best, tf.float32)),
          step=self.train_step_counter)
      tf.compat.v2.summary.scalar(
          'score_gap',
          tf.reduce_mean(scores[:, -1] - tf.reduce_mean(scores[:, :-1], 1)),
          step=self.train_step_counter)
    return tf_agent.LossInfo(aggregated.total_loss,
                             ImplicitBCLossInfo(per_example_loss))

  def _observation(self, experience: trajectory.Trajectory
                   ) -> types.NestedTensor:
    """The (normalised) observation the policy sees: [B, T, ...] or [B, ...]."""
    observation = experience.observation
    if not self._uses_history:
      observation = tf.nest.map_structure(lambda x: x[:, -1], observation)
    if self._observation_normalizer is not None:
      observation = self._observation_normalizer(observation)
    return observation


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
