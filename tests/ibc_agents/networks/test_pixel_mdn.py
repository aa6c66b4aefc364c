import functools

import numpy as np
import tensorflow as tf
from tf_agents.specs import tensor_spec

from ibc_agents import mdn_agent
from ibc_agents import testing
from ibc_agents.networks import pixel_encoder
from ibc_agents.networks import pixel_mdn

OBSERVATION_SPEC = {'rgb': tensor_spec.TensorSpec((12, 16, 3), tf.uint8)}
ACTION_SPEC = tensor_spec.BoundedTensorSpec((2,), tf.float32, -1.0, 1.0)


def _network(num_components=3):
  return pixel_mdn.PixelMDN(
      OBSERVATION_SPEC, ACTION_SPEC, width=32, depth=1,
      num_components=num_components,
      encoder_class=functools.partial(
          pixel_encoder.PixelEncoder,
          trunk_class=functools.partial(pixel_encoder.ConvMaxPoolTrunk,
                                        filters=(8,))))


def test_outputs_a_mixture_over_actions_per_image():
  parameters, _ = _network(num_components=3)(
      {'rgb': tf.zeros([4, 12, 16, 3], tf.uint8)})
  assert parameters.logits.shape == (4, 3)
  assert parameters.means.shape == (4, 3, 2)
  assert np.all(parameters.scales.numpy() > 0)


def test_mdn_agent_on_images_lowers_its_negative_log_likelihood():
  tf.random.set_seed(0)
  time_step_spec = testing.TIME_STEP_SPEC._replace(
      observation=OBSERVATION_SPEC)
  agent = mdn_agent.MdnBCAgent(
      time_step_spec, ACTION_SPEC, _network(), tf.keras.optimizers.Adam(3e-3),
      train_step_counter=tf.Variable(0, dtype=tf.int64))
  train = tf.function(agent.train)

  def experience(seed):
    images, position = testing.bright_spot_images(32, seed=seed)
    windows = testing.windows(np.zeros((32, testing.HISTORY, 3)),
                              np.repeat(position[:, None], testing.HISTORY, 1))
    return windows._replace(observation={'rgb': tf.constant(
        np.repeat(images[:, None], testing.HISTORY, 1))})

  held_out = experience(10_000)
  before = float(agent.loss(held_out).loss)
  for step in range(150):
    train(experience(step))
  assert float(agent.loss(held_out).loss) < before - 1.0  # nats per action
