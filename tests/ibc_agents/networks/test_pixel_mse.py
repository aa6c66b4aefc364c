import functools

import numpy as np
import tensorflow as tf
from tf_agents.specs import tensor_spec

from ibc_agents import testing
from ibc_agents.networks import pixel_encoder
from ibc_agents.networks import pixel_mse

OBSERVATION_SPEC = {'rgb': tensor_spec.TensorSpec((12, 16, 3), tf.uint8)}
ACTION_SPEC = tensor_spec.BoundedTensorSpec((2,), tf.float32, -1.0, 1.0)


def _network():
  return pixel_mse.PixelMSE(
      OBSERVATION_SPEC, ACTION_SPEC, width=32, depth=1,
      encoder_class=functools.partial(
          pixel_encoder.PixelEncoder, augmentation_class=None,
          trunk_class=functools.partial(pixel_encoder.ConvMaxPoolTrunk,
                                        filters=(8,))))


def test_outputs_one_action_per_image():
  actions, state = _network()(
      {'rgb': tf.zeros([5, 12, 16, 3], tf.uint8)})
  assert actions.shape == (5, 2) and state == ()


def test_regresses_the_position_of_a_bright_spot():
  tf.random.set_seed(0)
  network = _network()
  optimizer = tf.keras.optimizers.Adam(3e-3)

  @tf.function
  def train_step(images, position):
    with tf.GradientTape() as tape:
      loss = tf.reduce_mean(tf.square(
          network({'rgb': images}, training=True)[0] - position))
    optimizer.apply_gradients(zip(
        tape.gradient(loss, network.trainable_variables),
        network.trainable_variables))

  for step in range(200):
    train_step(*testing.bright_spot_images(32, seed=step))
  images, position = testing.bright_spot_images(256, seed=10_000)
  error = np.mean(np.square(network({'rgb': images})[0].numpy() - position))
  # The position's variance is about 0.36 per coordinate.
  assert error < 0.02
