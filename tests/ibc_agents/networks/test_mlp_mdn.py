import math

import numpy as np
import pytest
import tensorflow as tf
from tf_agents.specs import tensor_spec

from ibc_agents.networks import mlp_mdn

OBSERVATION_SPEC = {'a': tensor_spec.TensorSpec((2, 3), tf.float32)}
ACTION_SPEC = tensor_spec.BoundedTensorSpec((2,), tf.float32, -1.0, 1.0)


def _observations(batch_size, scale=1.0):
  tf.random.set_seed(0)
  return {'a': scale * tf.random.normal([batch_size, 2, 3])}


def _log_normal(x, mean, scale):
  return (-0.5 * ((x - mean) / scale) ** 2 - math.log(scale)
          - 0.5 * math.log(2 * math.pi))


def test_outputs_logits_means_and_bounded_scales():
  network = mlp_mdn.MLPMDN(OBSERVATION_SPEC, ACTION_SPEC, width=16, depth=1,
                           num_components=5, min_scale=0.01)
  parameters, state = network(_observations(3))
  assert parameters.logits.shape == (3, 5)
  assert parameters.means.shape == (3, 5, 2)
  assert parameters.scales.shape == (3, 5, 2)
  assert np.all(parameters.scales.numpy() >= 0.01)
  assert state == ()


def test_log_prob_matches_the_hand_computed_mixture_density():
  parameters = mlp_mdn.MixtureParameters(
      logits=tf.constant([[0.0, math.log(3.0)]]),  # weights 1/4, 3/4
      means=tf.constant([[[0.0, 0.0], [1.0, -1.0]]]),
      scales=tf.constant([[[1.0, 2.0], [0.5, 0.5]]]))
  x = (0.5, -0.5)
  density = (
      0.25 * math.exp(_log_normal(x[0], 0.0, 1.0) + _log_normal(x[1], 0.0, 2.0))
      + 0.75 * math.exp(_log_normal(x[0], 1.0, 0.5)
                        + _log_normal(x[1], -1.0, 0.5)))
  log_prob = mlp_mdn.mixture_distribution(parameters).log_prob([x])
  np.testing.assert_allclose(log_prob.numpy(), [math.log(density)], rtol=1e-5)


def test_most_likely_mean_picks_each_rows_heaviest_component():
  parameters = mlp_mdn.MixtureParameters(
      logits=tf.constant([[0.0, 2.0, 1.0], [5.0, 0.0, 0.0]]),
      means=tf.reshape(tf.range(12, dtype=tf.float32), [2, 3, 2]),
      scales=tf.ones([2, 3, 2]))
  np.testing.assert_array_equal(
      mlp_mdn.most_likely_mean(parameters).numpy(), [[2.0, 3.0], [6.0, 7.0]])


def test_log_prob_stays_finite_for_extreme_observations_and_targets():
  network = mlp_mdn.MLPMDN(OBSERVATION_SPEC, ACTION_SPEC, width=16, depth=2)
  for scale in (1e-6, 1.0, 1e6):
    parameters, _ = network(_observations(4, scale))
    mixture = mlp_mdn.mixture_distribution(parameters)
    for target in (0.0, 1e-30, 1e3):
      log_prob = mixture.log_prob(tf.fill([4, 2], target))
      assert np.all(np.isfinite(log_prob.numpy())), (scale, target)


@pytest.mark.parametrize('kwargs', [dict(num_components=0),
                                    dict(min_scale=0.0)])
def test_invalid_mixture_settings_are_rejected(kwargs):
  with pytest.raises(ValueError, match='num_components and min_scale'):
    mlp_mdn.MLPMDN(OBSERVATION_SPEC, ACTION_SPEC, **kwargs)


def test_rejects_more_than_one_action():
  with pytest.raises(ValueError, match='single rank-1'):
    mlp_mdn.MLPMDN(OBSERVATION_SPEC, (ACTION_SPEC, ACTION_SPEC))
