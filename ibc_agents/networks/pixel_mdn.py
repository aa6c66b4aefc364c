"""Mixture density network on image observations, for the MDN baseline."""
from typing import Callable

import gin
import tensorflow as tf
from tf_agents.typing import types

from ibc_agents.networks import mlp_mdn
from ibc_agents.networks import pixel_encoder


@gin.configurable
class PixelMDN(mlp_mdn.MLPMDN):
  """`MLPMDN` on the embedding of a `pixel_encoder.PixelEncoder`.

  Observations [B, ...] hold one uint8 image; the output is
  `mlp_mdn.MixtureParameters` over normalised actions. Same encoder as
  `PixelEBM`, for a like-for-like comparison.
  """

  def __init__(self,
               observation_spec: types.NestedTensorSpec,
               action_spec: types.TensorSpec,
               width: int = 256,
               depth: int = 2,
               activation: str = 'relu',
               dropout_rate: float = 0.0,
               compute_dtype: str = 'float32',
               num_components: int = 8,
               min_scale: float = 1e-3,
               encoder_class: Callable[..., tf.keras.layers.Layer] = (
                   pixel_encoder.PixelEncoder),
               name: str = 'PixelMDN'):
    """Args as `MLPMDN`, plus `encoder_class` as `PixelEBM`'s."""
    super().__init__(observation_spec, action_spec, width, depth, activation,
                     dropout_rate, compute_dtype, num_components, min_scale,
                     name)
    self._encoder = encoder_class(observation_spec,
                                  compute_dtype=compute_dtype)

  def encode(self, observations: types.NestedTensor,
             training: bool = False) -> tf.Tensor:
    """The image and low-dimensional leaves embedded: [B, E]."""
    return self._encoder(observations, training=training)
