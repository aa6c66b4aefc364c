import numpy as np
import tensorflow as tf

from ibc_agents import keyed_random


def _draws(keys):
  return keyed_random.RowKeyedDraws(tf.constant(keys, tf.uint32))


def test_a_row_draws_the_same_numbers_in_any_batch():
  together = _draws([7, 11, 13])
  uniform, normal = together.uniform([3, 50, 2]), together.normal([3, 50, 2])
  alone = _draws([11])
  np.testing.assert_array_equal(alone.uniform([1, 50, 2])[0], uniform[1])
  np.testing.assert_array_equal(alone.normal([1, 50, 2])[0], normal[1])


def test_keys_calls_and_counters_each_give_new_numbers():
  draws = _draws([7, 11])
  first, second = draws.uniform([2, 64]), draws.uniform([2, 64])
  assert not np.array_equal(first[0], first[1])  # another key
  assert not np.array_equal(first, second)  # another call
  in_loop = _draws([7, 11])
  step_0 = in_loop.uniform([2, 64], counter=tf.constant(0))
  in_loop = _draws([7, 11])
  step_1 = in_loop.uniform([2, 64], counter=tf.constant(1))
  assert not np.array_equal(step_0, step_1)


def test_uniform_and_normal_have_their_distributions():
  draws = _draws(np.arange(100))
  uniform = draws.uniform([100, 2000]).numpy()
  assert uniform.min() >= 0.0 and uniform.max() < 1.0
  counts, _ = np.histogram(uniform, bins=10, range=(0.0, 1.0))
  expected = uniform.size / 10
  assert ((counts - expected)**2 / expected).sum() < 27.9  # chi2(9), p 0.001
  normal = draws.normal([100, 2000]).numpy()
  assert abs(normal.mean()) < 0.01 and abs(normal.std() - 1.0) < 0.01
  assert abs(np.mean(normal**4) - 3.0) < 0.05  # Gaussian kurtosis
  neighbours = np.corrcoef(uniform[:, :-1].ravel(), uniform[:, 1:].ravel())
  assert abs(neighbours[0, 1]) < 0.01


def test_observation_keys_follow_every_bit_of_every_leaf():
  observation = {'image': np.zeros([3, 4, 5, 3], np.uint8),
                 'position': np.zeros([3, 2], np.float32)}
  observation['image'][1, 2, 3, 1] = 1
  observation['position'][2, 1] = 1e-30
  keys = keyed_random.observation_keys(observation).numpy()
  assert keys.shape == (3,) and len(set(keys)) == 3
  same = keyed_random.observation_keys(
      {name: value[[0, 0]] for name, value in observation.items()}).numpy()
  assert same[0] == same[1] == keys[0]
  assert keyed_random.observation_keys(observation, seed=1).numpy()[0] != keys[0]
