import numpy as np
import pytest
import tensorflow as tf
from tf_agents.specs import tensor_spec

from ibc_agents import normalization

ACTION_SPEC = tensor_spec.BoundedTensorSpec((2,), tf.float32, 0.0, 1.0)


def test_observation_normalizer_standardises_every_leaf_with_history():
  normalizer = normalization.ObservationNormalizer(
      {'x': np.array([1.0, 2.0]), 'y': np.array([0.0])},
      {'x': np.array([2.0, 0.5]), 'y': np.array([0.0])})
  out = normalizer({'x': tf.constant([[[3.0, 2.0], [1.0, 3.0]]]),
                    'y': tf.constant([[[4.0], [5.0]]])})
  np.testing.assert_allclose(out['x'].numpy(), [[[1.0, 0.0], [0.0, 2.0]]])
  assert np.isfinite(out['y'].numpy()).all()


def test_action_normalizer_maps_buffered_data_range_to_unit_box_and_back():
  normalizer = normalization.ActionNormalizer(
      ACTION_SPEC, np.array([0.2, 0.4]), np.array([0.6, 0.5]),
      boundary_buffer=0.05)
  np.testing.assert_allclose(normalizer.low.numpy(), [0.18, 0.395], rtol=1e-5)
  np.testing.assert_allclose(normalizer.high.numpy(), [0.62, 0.505], rtol=1e-5)
  actions = tf.constant([[0.2, 0.45], [0.6, 0.5]])
  np.testing.assert_allclose(
      normalizer.denormalize(normalizer.normalize(actions)).numpy(),
      actions.numpy(), atol=1e-6)
  np.testing.assert_allclose(normalizer.normalize(tf.constant([0.4, 0.45])),
                             [0.0, 0.0], atol=1e-6)


def test_action_normalizer_keeps_bounds_inside_the_action_spec():
  normalizer = normalization.ActionNormalizer(
      ACTION_SPEC, np.array([0.0, 0.0]), np.array([1.0, 1.0]))
  np.testing.assert_allclose(normalizer.low.numpy(), [0.0, 0.0])
  np.testing.assert_allclose(normalizer.high.numpy(), [1.0, 1.0])
  np.testing.assert_allclose(
      normalizer.denormalize(tf.constant([[-3.0, 3.0]])).numpy(), [[0.0, 1.0]])


def test_action_normalizer_rejects_statistics_of_the_wrong_shape():
  with pytest.raises(ValueError, match='expected'):
    normalization.ActionNormalizer(ACTION_SPEC, np.zeros(3), np.ones(3))


def test_observation_normalizer_passes_leaves_without_statistics_unchanged():
  normalizer = normalization.ObservationNormalizer(
      {'x': np.array([1.0]), 'rgb': None}, {'x': np.array([2.0]), 'rgb': None})
  image = tf.constant(np.arange(24, dtype=np.uint8).reshape(1, 2, 2, 2, 3))
  out = normalizer({'x': tf.constant([[[3.0]]]), 'rgb': image})
  assert out['rgb'].dtype == tf.uint8
  np.testing.assert_array_equal(out['rgb'].numpy(), image.numpy())
  np.testing.assert_allclose(out['x'].numpy(), [[[1.0]]])
