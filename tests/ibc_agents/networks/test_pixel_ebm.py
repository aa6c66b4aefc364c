import functools

import numpy as np
import tensorflow as tf
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import time_step as ts
from tf_agents.trajectories import trajectory

from ibc_agents import ibc_agent
from ibc_agents import ibc_policy
from ibc_agents import losses
from ibc_agents import normalization
from ibc_agents import samplers
from ibc_agents.networks import pixel_ebm
from ibc_agents.networks import pixel_encoder

HISTORY = 2
IMAGE_SPEC = tensor_spec.TensorSpec((12, 16, 3), tf.uint8)
OBSERVATION_SPEC = {'rgb': IMAGE_SPEC,
                    'effector_translation': tensor_spec.TensorSpec(
                        (2,), tf.float32)}
POLICY_OBSERVATION_SPEC = tensor_spec.add_outer_dims_nest(OBSERVATION_SPEC,
                                                          (HISTORY,))
ACTION_SPEC = tensor_spec.BoundedTensorSpec((2,), tf.float32, -1.0, 1.0)
TIME_STEP_SPEC = ts.time_step_spec(POLICY_OBSERVATION_SPEC)
DATA_SPEC = trajectory.Trajectory(
    step_type=tensor_spec.TensorSpec((), tf.int32),
    observation=OBSERVATION_SPEC, action=ACTION_SPEC, policy_info=(),
    next_step_type=tensor_spec.TensorSpec((), tf.int32),
    reward=tensor_spec.TensorSpec((), tf.float32),
    discount=tensor_spec.TensorSpec((), tf.float32))


class _CountingTrunk(pixel_encoder.ConvMaxPoolTrunk):
  """A real conv trunk that records the batch size of every image batch.

  It must run eagerly: a traced loop body would be recorded once however
  many times it runs.
  """

  def __init__(self, compute_dtype='float32'):
    super().__init__(filters=(4,), compute_dtype=compute_dtype)
    self.batch_sizes = []

  def call(self, images):
    assert tf.executing_eagerly(), 'calls inside a graph cannot be counted'
    self.batch_sizes.append(int(images.shape[0]))
    return super().call(images)


def _network():
  """A small PixelEBM and the trunk inside it."""
  trunks = []

  def trunk_class(compute_dtype):
    trunks.append(_CountingTrunk(compute_dtype))
    return trunks[-1]

  network = pixel_ebm.PixelEBM(
      POLICY_OBSERVATION_SPEC, ACTION_SPEC, width=16, depth=1,
      encoder_class=functools.partial(pixel_encoder.PixelEncoder,
                                      trunk_class=trunk_class))
  return network, trunks[0]


def _observations(batch_size, seed=0):
  rng = np.random.default_rng(seed)
  return {
      'rgb': tf.constant(rng.integers(
          0, 256, (batch_size, HISTORY) + tuple(IMAGE_SPEC.shape)), tf.uint8),
      'effector_translation': tf.constant(
          rng.normal(size=(batch_size, HISTORY, 2)), tf.float32)}


def _experience(batch_size):
  observations = _observations(batch_size)
  return trajectory.Trajectory(
      step_type=tf.ones([batch_size, HISTORY], tf.int32),
      observation=observations,
      action=tf.random.uniform([batch_size, HISTORY, 2], -0.9, 0.9, seed=0),
      policy_info=(),
      next_step_type=tf.ones([batch_size, HISTORY], tf.int32),
      reward=tf.zeros([batch_size, HISTORY]),
      discount=tf.ones([batch_size, HISTORY]))


def test_scores_every_candidate_from_one_embedding_per_observation():
  tf.random.set_seed(0)
  network, _ = _network()
  observations = _observations(3)
  actions = tf.random.uniform([3, 7, 2], -1.0, 1.0)
  scores, state = network((observations, actions))
  single, _ = network((observations, actions[:, 0]))
  embedded = network.score_embedding(network.encode(observations), actions)
  assert scores.shape == (3, 7) and single.shape == (3,) and state == ()
  # One candidate and seven take different matmul kernels, whose float32 sums
  # differ by an ulp of the largest term (the kernels depend on the CPU), so
  # the bound is relative to the scores' scale, not to each score.
  atol = 1e-5 * np.abs(scores.numpy()).max()
  np.testing.assert_allclose(single.numpy(), scores[:, 0].numpy(), rtol=1e-5,
                             atol=atol)
  np.testing.assert_allclose(embedded.numpy(), scores.numpy(), rtol=1e-5,
                             atol=atol)


def test_encoder_sees_b_images_not_b_times_n_in_training_and_acting():
  tf.random.set_seed(0)
  batch_size, num_counter_examples = 4, 16
  network, trunk = _network()
  agent = ibc_agent.ImplicitBCAgent(
      TIME_STEP_SPEC, ACTION_SPEC, network, tf.keras.optimizers.Adam(1e-3),
      num_counter_examples=num_counter_examples,
      counter_example_sampler=samplers.langevin_maximize,
      fraction_refined=0.5,
      gradient_penalty=losses.gradient_penalty,
      training_data_spec=DATA_SPEC,
      train_step_counter=tf.Variable(0, dtype=tf.int64))
  trunk.batch_sizes.clear()
  agent.train(_experience(batch_size))
  # Langevin chains, InfoNCE over N + 1 candidates and the gradient penalty
  # all score against one encoding of the B observations.
  assert trunk.batch_sizes == [batch_size]

  time_step = ts.restart(_observations(batch_size, seed=1), batch_size)
  for sampler in (samplers.dfo_maximize, samplers.dfo_then_langevin):
    policy = ibc_policy.IbcPolicy(
        TIME_STEP_SPEC, ACTION_SPEC, network,
        normalization.ActionNormalizer(ACTION_SPEC), num_action_samples=64,
        sampler=sampler)
    trunk.batch_sizes.clear()
    actions = policy.action(time_step).action
    assert trunk.batch_sizes == [batch_size]  # however many samples and steps
    assert actions.shape == (batch_size, 2)
    assert np.all(np.abs(actions.numpy()) <= 1.0)
