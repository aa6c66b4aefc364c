import numpy as np
import tensorflow as tf

from ibc_agents import samplers


def _quadratic_score(optimum):
  """Score of a fixed concave function with its maximum at `optimum` [B, A]."""
  optimum = tf.constant(optimum, tf.float32)
  return lambda actions: -tf.reduce_sum(
      tf.square(actions - optimum[:, None, :]), axis=-1) * 50.0


def test_uniform_actions_fill_the_bounds_with_the_right_shape():
  tf.random.set_seed(0)
  low, high = tf.constant([-1.0, 0.0, 2.0]), tf.constant([1.0, 0.5, 3.0])
  actions = samplers.uniform_actions(4, 1000, low, high).numpy()
  assert actions.shape == (4, 1000, 3)
  assert (actions >= low.numpy()).all() and (actions <= high.numpy()).all()
  np.testing.assert_allclose(actions.mean(axis=(0, 1)), [0.0, 0.25, 2.5],
                             atol=0.05)


def test_dfo_finds_the_known_maximum_of_a_fixed_score():
  tf.random.set_seed(1)
  optimum = np.array([[0.3, -0.7], [-0.9, 0.5]], np.float32)
  low, high = -tf.ones(2), tf.ones(2)
  initial = samplers.uniform_actions(2, 512, low, high)
  best, population, scores = samplers.dfo_maximize(
      _quadratic_score(optimum), initial, low, high, num_iterations=5)
  assert population.shape == (2, 512, 2) and scores.shape == (2, 512)
  np.testing.assert_allclose(best.numpy(), optimum, atol=0.03)


def test_dfo_beats_the_best_of_its_initial_uniform_samples():
  tf.random.set_seed(2)
  optimum = np.array([[0.123, 0.456]], np.float32)
  score_fn = _quadratic_score(optimum)
  low, high = -tf.ones(2), tf.ones(2)
  initial = samplers.uniform_actions(1, 64, low, high)
  best_initial = tf.reduce_max(score_fn(initial))
  best, _, _ = samplers.dfo_maximize(score_fn, initial, low, high)
  assert score_fn(best[:, None, :])[0, 0] > best_initial


def test_dfo_keeps_samples_inside_bounds_when_the_optimum_is_outside():
  tf.random.set_seed(3)
  low, high = tf.constant([0.0, 0.0]), tf.constant([0.5, 0.5])
  initial = samplers.uniform_actions(1, 256, low, high)
  best, population, _ = samplers.dfo_maximize(
      _quadratic_score([[2.0, 2.0]]), initial, low, high)
  assert (population.numpy() >= 0.0).all()
  assert (population.numpy() <= 0.5).all()
  np.testing.assert_allclose(best.numpy(), [[0.5, 0.5]], atol=0.02)
