"""Explicit regression from image observations, for the MSE baseline."""
from typing import Callable

import gin
import tensorflow as tf
from tf_agents.typing import types

from ibc_agents.networks import mlp_mse
from ibc_agents.networks import pixel_encoder


@gin.configurable
class PixelMSE(mlp_mse.MLPMSE):
  """`MLPMSE` on the embedding of a `pixel_encoder.PixelEncoder`.

  Observations [B, ...] hold one uint8 image; the output is one action
  [B, A] in normalised units. Same encoder as `PixelEBM`, for a like-for-like
  comparison.
  """

  def __init__(self,
               observation_spec: types.NestedTensorSpec,
               action_spec: types.TensorSpec,
               width: int = 256,
               depth: int = 2,
               activation: str = 'relu',
               dropout_rate: float = 0.0,
               compute_dtype: str = 'float32',
               encoder_class: Callable[..., tf.keras.layers.Layer] = (
                   pixel_encoder.PixelEncoder),
               name: str = 'PixelMSE'):
    """Args as `MLPMSE`, plus `encoder_class` as `PixelEBM`'s."""
    super().__init__(observation_spec, action_spec, width, depth, activation,
                     dropout_rate, compute_dtype, name)
    self._encoder = encoder_class(observation_spec,
                                  compute_dtype=compute_dtype)

  def encode(self, observations: types.NestedTensor,
             training: bool = False) -> tf.Tensor:
    """The image and low-dimensional leaves embedded: [B, E]."""
    return self._encoder(observations, training=training)
