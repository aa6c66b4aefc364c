"""Layers and helpers shared by the dense networks."""
from typing import Callable, List

import tensorflow as tf
from tf_agents.typing import types


def flatten_observation(observation: types.NestedTensor) -> tf.Tensor:
  """Concatenates every observation leaf [B, ...] into one vector [B, D]."""
  leaves = [tf.reshape(tf.cast(leaf, tf.float32), [tf.shape(leaf)[0], -1])
            for leaf in tf.nest.flatten(observation)]
  return tf.concat(leaves, axis=-1)


def action_size(action_spec: types.NestedTensorSpec) -> int:
  """A of a single rank-1 action spec [A]; the only actions the heads emit."""
  flat_action_spec = tf.nest.flatten(action_spec)
  if len(flat_action_spec) != 1 or flat_action_spec[0].shape.rank != 1:
    raise ValueError(
        f'Explicit action heads need a single rank-1 action, got '
        f'{action_spec}.')
  return int(flat_action_spec[0].shape[0])


class ResNetPreActivationDense(tf.keras.layers.Layer):
  """Dense pre-activation residual stack: project to `width`, then `depth` blocks.

  Each block computes x + Dense(act(Dense(act(x)))) (He et al. 2016, identity
  mappings), the network the IBC paper uses for its state-based EBMs.
  """

  def __init__(self, width: int, depth: int, activation: str = 'relu',
               dropout_rate: float = 0.0, name: str = 'resnet_dense'):
    super().__init__(name=name)
    if width <= 0 or depth < 0:
      raise ValueError(f'width must be positive and depth non-negative, got '
                       f'width={width}, depth={depth}.')
    self._activation: Callable[[tf.Tensor], tf.Tensor] = (
        tf.keras.activations.get(activation))
    self._projection = tf.keras.layers.Dense(width, name='projection')
    self._blocks: List[List[tf.keras.layers.Layer]] = [
        [tf.keras.layers.Dense(width, name=f'block{i}_dense0'),
         tf.keras.layers.Dense(width, name=f'block{i}_dense1')]
        for i in range(depth)]
    self._dropout = tf.keras.layers.Dropout(dropout_rate)

  def call(self, inputs: tf.Tensor, training: bool = False) -> tf.Tensor:
    """[..., D] -> [..., width]."""
    x = self._projection(inputs)
    for dense0, dense1 in self._blocks:
      y = dense0(self._dropout(self._activation(x), training=training))
      y = dense1(self._dropout(self._activation(y), training=training))
      x = x + y
    return self._activation(x)
