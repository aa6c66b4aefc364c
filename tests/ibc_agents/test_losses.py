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
