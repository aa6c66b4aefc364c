"""Tests for the autoregressive energy network."""
import numpy as np
import tensorflow as tf
from tf_agents.specs import tensor_spec

from ibc_agents.networks import ar_mlp_ebm

OBSERVATION_SPEC = {'x': tensor_spec.TensorSpec((2, 3), tf.float32)}
ACTION_SPEC = tensor_spec.BoundedTensorSpec((4,), tf.float32, -1.0, 1.0)


def _network():
  tf.random.set_seed(0)
  network = ar_mlp_ebm.ARMLPEBM(OBSERVATION_SPEC, ACTION_SPEC, width=16,
                                depth=1)
  network.create_variables((OBSERVATION_SPEC, ACTION_SPEC))
  return network


def test_dimension_scores_depend_on_that_dimension_and_those_before_only():
  network = _network()
  embedding = network.encode({'x': tf.random.normal([3, 2, 3])})
  actions = tf.random.uniform([3, 5, 4], -1.0, 1.0)
  for dimension in range(4):
    with tf.GradientTape() as tape:
      tape.watch(actions)
      scores = network.score_embedding(embedding, actions,
                                       dimension=dimension)
    assert scores.shape == (3, 5)
    gradient = np.abs(tape.gradient(scores, actions).numpy()).sum(axis=(0, 1))
    assert np.all(gradient[:dimension + 1] > 0.0)
    np.testing.assert_array_equal(gradient[dimension + 1:], 0.0)


def test_joint_score_is_the_sum_of_the_dimension_scores():
  network = _network()
  observations = {'x': tf.random.normal([3, 2, 3])}
  actions = tf.random.uniform([3, 5, 4], -1.0, 1.0)
  joint, _ = network((observations, actions))
  embedding = network.encode(observations)
  total = sum(network.score_embedding(embedding, actions, dimension=j)
              for j in range(4))
  np.testing.assert_allclose(joint.numpy(), total.numpy(), rtol=1e-5,
                             atol=1e-5)
  single, _ = network((observations, actions[:, 0]))
  assert single.shape == (3,)
