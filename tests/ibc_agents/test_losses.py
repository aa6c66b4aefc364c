import numpy as np
import tensorflow as tf

from ibc_agents import losses


def test_info_nce_matches_hand_computed_cross_entropy():
  scores = tf.constant([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
  expected_first = -(3.0 - np.log(np.exp(1.0) + np.exp(2.0) + np.exp(3.0)))
  expected_second = np.log(3.0)
  np.testing.assert_allclose(losses.info_nce(scores).numpy(),
                             [expected_first, expected_second], rtol=1e-6)


def test_info_nce_uses_the_given_positive_column():
  scores = tf.constant([[5.0, 0.0, 0.0]])
  assert losses.info_nce(scores, positive_index=0).numpy()[0] < 0.02
  assert losses.info_nce(scores, positive_index=-1).numpy()[0] > 5.0


def test_gradient_penalty_is_zero_below_the_margin_and_positive_above():
  gradients = tf.constant([[[0.5, -0.9], [0.1, 0.2]],
                           [[3.0, 0.0], [0.0, -2.0]]])
  penalty = losses.gradient_penalty(gradients, margin=1.0).numpy()
  np.testing.assert_allclose(penalty, [0.0, (2.0**2 + 1.0**2) / 2])


def test_gradient_penalty_on_a_hand_made_network():
  weights = tf.constant([[2.0], [0.5]])
  network = lambda actions: tf.squeeze(actions @ weights, -1)  # [B, N]
  actions = tf.zeros([1, 3, 2])
  with tf.GradientTape() as tape:
    tape.watch(actions)
    scores = network(actions)
  gradients = tape.gradient(scores, actions)
  np.testing.assert_allclose(
      losses.gradient_penalty(gradients, margin=1.0, squared=False).numpy(),
      [1.0])
  np.testing.assert_allclose(
      losses.gradient_penalty(gradients, margin=3.0).numpy(), [0.0])
