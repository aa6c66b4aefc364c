import numpy as np
import tensorflow as tf

from ibc_agents import keyed_random
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


def test_polynomial_schedule_gives_initial_and_final_step_sizes():
  schedule = samplers.PolynomialSchedule(initial=0.1, final=1e-5, power=2.0)
  np.testing.assert_allclose(float(schedule(tf.constant(0.0), 100)), 0.1)
  np.testing.assert_allclose(float(schedule(tf.constant(99.0), 100)), 1e-5)
  halfway = float(schedule(tf.constant(49.5), 100))
  np.testing.assert_allclose(halfway, (0.1 - 1e-5) * 0.25 + 1e-5, rtol=1e-6)


def test_exponential_schedule_decays_geometrically():
  schedule = samplers.ExponentialSchedule(initial=0.5, decay=0.9)
  np.testing.assert_allclose(float(schedule(tf.constant(0.0), 10)), 0.5)
  np.testing.assert_allclose(float(schedule(tf.constant(9.0), 10)),
                             0.5 * 0.9**9, rtol=1e-6)


def test_langevin_moves_samples_to_the_minimum_of_a_quadratic_energy():
  tf.random.set_seed(4)
  optimum = np.array([[0.4, -0.3], [-0.6, 0.8]], np.float32)
  low, high = -tf.ones(2), tf.ones(2)
  initial = samplers.uniform_actions(2, 64, low, high)
  chains = samplers.langevin_actions(
      _quadratic_score(optimum), initial, low, high, num_iterations=100,
      step_size=samplers.PolynomialSchedule(0.1, 1e-5, 2.0))
  np.testing.assert_allclose(chains.numpy().mean(axis=1), optimum, atol=0.05)
  assert np.abs(chains.numpy() - optimum[:, None, :]).max() < 0.15


def _noiseless_chains(num_iterations, stop_below=None):
  """Deterministic chains (no noise) on a quadratic energy, constant step."""
  low, high = -tf.ones(2), tf.ones(2)
  start = tf.constant([[[0.9, 0.9], [-0.9, 0.5]]])
  return samplers.langevin_actions(
      _quadratic_score([[0.2, -0.1]]), start, low, high,
      num_iterations=num_iterations, noise_scale=0.0,
      step_size=samplers.ExponentialSchedule(0.005, 1.0),
      stop_below=stop_below).numpy()


def test_langevin_stops_once_no_sample_moves_more_than_the_threshold():
  full = _noiseless_chains(400)
  np.testing.assert_allclose(full[0], [[0.2, -0.1]] * 2, atol=1e-3)
  # A step moves a sample a quarter of its distance to the optimum (at most
  # 0.1): stopping below 10 ends the chains after one step, below 0 never.
  np.testing.assert_allclose(_noiseless_chains(400, stop_below=10.0),
                             _noiseless_chains(1), atol=1e-6)
  np.testing.assert_allclose(_noiseless_chains(400, stop_below=0.0), full,
                             atol=1e-6)
  stopped = _noiseless_chains(400, stop_below=1e-3)
  np.testing.assert_allclose(stopped, full, atol=0.05)
  assert not np.allclose(stopped, full, atol=1e-6)


def test_langevin_respects_bounds_and_the_per_step_clip():
  tf.random.set_seed(5)
  low, high = tf.constant([0.0, 0.0]), tf.constant([2.0, 1.0])
  start = tf.fill([1, 32, 2], 0.5)
  one_step = samplers.langevin_actions(
      _quadratic_score([[5.0, -5.0]]), start, low, high, num_iterations=1,
      step_size=samplers.ExponentialSchedule(10.0, 1.0), delta_action_clip=0.1)
  moves = np.abs(one_step.numpy() - 0.5)
  assert (moves[..., 0] <= 0.1 + 1e-6).all() and (moves[..., 1] <= 0.05 + 1e-6).all()
  chains = samplers.langevin_actions(
      _quadratic_score([[5.0, -5.0]]), start, low, high, num_iterations=200,
      step_size=samplers.ExponentialSchedule(10.0, 1.0))
  assert (chains.numpy() >= [0.0, 0.0]).all()
  assert (chains.numpy() <= [2.0, 1.0]).all()
  np.testing.assert_allclose(chains.numpy()[0].mean(0), [2.0, 0.0], atol=0.01)


def test_langevin_runs_inside_a_tf_function():
  tf.random.set_seed(6)
  low, high = -tf.ones(1), tf.ones(1)
  score_fn = _quadratic_score([[0.25]])
  maximize = tf.function(lambda a: samplers.langevin_maximize(
      score_fn, a, low, high))
  best, _, _ = maximize(samplers.uniform_actions(1, 16, low, high))
  np.testing.assert_allclose(best.numpy(), [[0.25]], atol=0.05)


def _autoregressive_score(optimum):
  """Per-dimension scores: dimension j peaks at optimum[j] + (chosen j-1)."""
  optimum = tf.constant(optimum, tf.float32)

  def score_fn(actions, dimension):
    target = optimum[:, None, dimension]
    if dimension > 0:  # depends on the previous dimension's value
      target += 0.5 * actions[:, :, dimension - 1]
    return -tf.square(actions[:, :, dimension] - target) * 50.0

  return score_fn


def test_autoregressive_dfo_finds_a_conditional_optimum_dimension_by_dimension():
  tf.random.set_seed(4)
  optimum = np.array([[0.4, -0.2, 0.1, 0.3], [-0.6, 0.1, -0.3, 0.0]],
                     np.float32)
  low, high = -tf.ones(4), tf.ones(4)
  initial = samplers.uniform_actions(2, 256, low, high)
  best, population, scores = samplers.autoregressive_dfo(
      _autoregressive_score(optimum), initial, low, high, num_iterations=4)
  assert best.shape == (2, 4)
  assert population.shape == (2, 256, 4) and scores.shape == (2, 256)
  expected = optimum.copy()
  for dimension in range(1, 4):
    expected[:, dimension] += 0.5 * expected[:, dimension - 1]
  np.testing.assert_allclose(best.numpy(), expected, atol=0.03)
  # The population keeps the chosen prefix.
  np.testing.assert_allclose(population.numpy()[:, :, :3],
                             np.repeat(best.numpy()[:, None, :3], 256, 1))


def test_autoregressive_dfo_stays_inside_bounds_when_optima_are_outside():
  tf.random.set_seed(5)
  optimum = np.array([[2.0, -3.0, 0.9]], np.float32)
  low, high = tf.constant([-0.5, -0.5, 0.0]), tf.constant([0.5, 0.5, 0.2])
  initial = samplers.uniform_actions(1, 128, low, high)
  best, population, _ = samplers.autoregressive_dfo(
      _autoregressive_score(optimum), initial, low, high)
  assert np.all(population.numpy() >= low.numpy() - 1e-6)
  assert np.all(population.numpy() <= high.numpy() + 1e-6)
  np.testing.assert_allclose(best.numpy(), [[0.5, -0.5, 0.2]], atol=0.01)


def test_langevin_maximize_runs_the_chains_its_own_parameters_describe():
  tf.random.set_seed(5)
  optimum = np.array([[0.4, -0.3]], np.float32)
  low, high = -tf.ones(2), tf.ones(2)
  initial = samplers.uniform_actions(1, 32, low, high)
  unmoved = samplers.langevin_maximize(_quadratic_score(optimum), initial,
                                       low, high, num_iterations=0)
  np.testing.assert_array_equal(unmoved.actions.numpy(), initial.numpy())
  converged = samplers.langevin_maximize(
      _quadratic_score(optimum), initial, low, high, num_iterations=100,
      step_size=samplers.ExponentialSchedule(0.1, 0.97), noise_scale=0.0)
  assert isinstance(converged, samplers.SampleResult)
  np.testing.assert_allclose(converged.best.numpy(), optimum, atol=0.02)


def test_resampling_draws_indices_in_proportion_to_the_softmax():
  tf.random.set_seed(6)
  probabilities = np.array([0.1, 0.2, 0.3, 0.4, 0.0], np.float32)
  with np.errstate(divide='ignore'):
    logits = tf.tile(tf.math.log(probabilities)[None], [8000, 1])  # [B, 5]
  indices = samplers.resample_indices(logits).numpy()
  assert indices.shape == (8000, 5)
  frequencies = np.bincount(indices.ravel(), minlength=5) / indices.size
  np.testing.assert_allclose(frequencies, probabilities, atol=0.01)
  assert frequencies[4] == 0.0  # a zero-probability sample is never drawn


def test_resampling_compiles_with_xla():
  tf.random.set_seed(7)
  logits = tf.constant([[0.0, 50.0, 0.0]])
  indices = tf.function(samplers.resample_indices, jit_compile=True)(logits)
  np.testing.assert_array_equal(indices.numpy(), [[1, 1, 1]])


def test_keyed_langevin_noise_is_new_each_step_and_the_same_in_any_batch():
  low, high = tf.constant([-1.0, -1.0]), tf.constant([1.0, 1.0])
  start = tf.zeros([3, 8, 2])

  def chains(keys, num_iterations):
    return samplers.langevin_actions(
        lambda actions: tf.reduce_sum(0.0 * actions, axis=-1),
        start[:len(keys)], low, high, num_iterations=num_iterations,
        step_size=samplers.ExponentialSchedule(initial=0.01, decay=1.0),
        draws=keyed_random.RowKeyedDraws(tf.constant(keys, tf.uint32)))

  one_step, two_steps = chains([5, 6, 7], 1), chains([5, 6, 7], 2)
  assert not np.allclose(two_steps, 2.0 * one_step, atol=1e-4)
  np.testing.assert_array_equal(chains([6], 2)[0], two_steps[1])


def test_langevin_noise_scales_with_the_step_or_its_square_root():
  tf.random.set_seed(7)
  low, high = -10.0 * tf.ones(1), 10.0 * tf.ones(1)
  start = tf.zeros([1, 4000, 1])
  flat = lambda actions: 0.0 * tf.reduce_sum(actions, -1)  # zero gradient
  spreads = {}
  for sqrt_step_noise in (False, True):
    moved = samplers.langevin_actions(
        flat, start, low, high, num_iterations=1,
        step_size=samplers.ExponentialSchedule(0.02, 1.0),
        delta_action_clip=1.0, sqrt_step_noise=sqrt_step_noise)
    spreads[sqrt_step_noise] = float(np.std(moved.numpy()))
  np.testing.assert_allclose(spreads[False], 0.02, rtol=0.1)
  np.testing.assert_allclose(spreads[True], np.sqrt(2 * 0.02), rtol=0.1)
