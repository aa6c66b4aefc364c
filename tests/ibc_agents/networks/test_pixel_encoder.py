import numpy as np
import pytest
import tensorflow as tf
from tf_agents.specs import tensor_spec

from ibc_agents.networks import pixel_encoder

HEIGHT, WIDTH = 6, 8
OBSERVATION_SPEC = {
    'rgb': tensor_spec.TensorSpec((2, HEIGHT, WIDTH, 3), tf.uint8),
    'effector_translation': tensor_spec.TensorSpec((2, 2), tf.float32)}


class _Identity(tf.keras.layers.Layer):
  """A trunk or pooling that passes the images on, flattened: [B, H * W * C]."""

  def __init__(self, compute_dtype='float32'):
    super().__init__()

  def call(self, x):
    return tf.reshape(x, [tf.shape(x)[0], -1])


def _images(batch_size, seed=0):
  rng = np.random.default_rng(seed)
  return tf.constant(rng.integers(0, 256, (batch_size, HEIGHT, WIDTH, 3)),
                     tf.uint8)


def test_random_shift_is_the_identity_at_evaluation():
  images = _images(4)
  shifted = pixel_encoder.RandomShift(pad=3)(images, training=False)
  np.testing.assert_array_equal(shifted.numpy(), images.numpy())


def test_random_shift_translates_each_image_within_pad_repeating_edges():
  tf.random.set_seed(0)
  pad = 2
  images = _images(32).numpy()
  shifted = pixel_encoder.RandomShift(pad)(tf.constant(images),
                                           training=True).numpy()
  rows, columns = np.arange(HEIGHT), np.arange(WIDTH)
  offsets = set()
  for image, result in zip(images, shifted):
    matches = [
        (dy, dx) for dy in range(-pad, pad + 1) for dx in range(-pad, pad + 1)
        if np.array_equal(result, image[
            np.clip(rows + dy, 0, HEIGHT - 1)][:, np.clip(columns + dx, 0,
                                                          WIDTH - 1)])]
    assert matches, 'not a shift of the image by at most pad pixels'
    offsets.add(matches[0])
  assert shifted.dtype == np.uint8
  assert len(offsets) > 5  # drawn per image


def test_encoder_stacks_history_frames_on_channels_scaled_to_unit_range():
  encoder = pixel_encoder.PixelEncoder(
      OBSERVATION_SPEC, trunk_class=_Identity, pooling_class=_Identity,
      augmentation_class=None)
  frames = tf.stack([_images(3, seed=1), _images(3, seed=2)], axis=1)
  effector = tf.random.normal([3, 2, 2])
  embedding = encoder({'rgb': frames, 'effector_translation': effector})
  image_size = HEIGHT * WIDTH * 6
  assert embedding.shape == (3, image_size + 4)
  stacked = embedding[:, :image_size].numpy().reshape(3, HEIGHT, WIDTH, 6)
  np.testing.assert_allclose(stacked[..., :3], frames[:, 0].numpy() / 255.0,
                             rtol=1e-6)
  np.testing.assert_allclose(stacked[..., 3:], frames[:, 1].numpy() / 255.0,
                             rtol=1e-6)
  np.testing.assert_allclose(embedding[:, image_size:].numpy(),
                             effector.numpy().reshape(3, 4))


def test_encoder_shifts_the_history_frames_of_an_image_together():
  tf.random.set_seed(1)
  encoder = pixel_encoder.PixelEncoder(
      OBSERVATION_SPEC, trunk_class=_Identity, pooling_class=_Identity)
  frame = _images(8)
  embedding = encoder({'rgb': tf.stack([frame, frame], axis=1),
                       'effector_translation': tf.zeros([8, 2, 2])},
                      training=True)
  stacked = embedding[:, :-4].numpy().reshape(8, HEIGHT, WIDTH, 6)
  np.testing.assert_array_equal(stacked[..., :3], stacked[..., 3:])
  assert not np.allclose(stacked[..., :3], frame.numpy() / 255.0)


def test_spatial_softmax_returns_the_position_of_each_channel_peak():
  features = np.zeros((1, 5, 9, 2), np.float32)
  features[0, 1, 7, 0] = 50.0  # row 1 of 5, column 7 of 9
  features[0, 4, 0, 1] = 50.0
  coordinates = pixel_encoder.SpatialSoftmax()(tf.constant(features)).numpy()
  # [x of each channel, y of each channel], both in [-1, 1]
  np.testing.assert_allclose(coordinates[0], [0.75, -1.0, -0.5, 1.0],
                             atol=1e-4)


def test_global_average_pool_means_each_channel():
  features = tf.reshape(tf.range(24, dtype=tf.float32), [1, 2, 4, 3])
  np.testing.assert_allclose(
      pixel_encoder.GlobalAveragePool()(features).numpy(), [[10.5, 11.5, 12.5]])


@pytest.mark.parametrize('trunk_class, kwargs, size', [
    (pixel_encoder.ConvMaxPoolTrunk, {}, (22, 30, 8)),
    (pixel_encoder.ConvMaxPoolTrunk, {'first_stride': 2}, (11, 15, 8)),
    (pixel_encoder.ResNetTrunk, {'blocks_per_stage': 1}, (23, 30, 8))])
def test_trunks_halve_the_resolution_per_stage(trunk_class, kwargs, size):
  features = trunk_class(filters=(4, 8), **kwargs)(tf.zeros([2, 90, 120, 6]))
  assert features.shape == (2,) + size


@pytest.mark.bfloat16
def test_bfloat16_encoder_returns_float32_embeddings():
  encoder = pixel_encoder.PixelEncoder(
      OBSERVATION_SPEC, trunk_class=lambda compute_dtype: (
          pixel_encoder.ConvMaxPoolTrunk((4,), compute_dtype=compute_dtype)),
      compute_dtype='bfloat16')
  embedding = encoder({'rgb': tf.stack([_images(2)] * 2, axis=1),
                       'effector_translation': tf.zeros([2, 2, 2])})
  assert embedding.dtype == tf.float32 and embedding.shape == (2, 2 * 4 + 4)


@pytest.mark.parametrize('spec, message', [
    ({'x': tensor_spec.TensorSpec((3,), tf.float32)}, 'exactly one uint8'),
    ({'a': OBSERVATION_SPEC['rgb'], 'b': OBSERVATION_SPEC['rgb']},
     'exactly one uint8'),
    ({'rgb': tensor_spec.TensorSpec((8, 3), tf.uint8)}, r'\[H, W, C\]')])
def test_encoder_rejects_observations_without_one_image(spec, message):
  with pytest.raises(ValueError, match=message):
    pixel_encoder.PixelEncoder(spec)
