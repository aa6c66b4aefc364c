"""Energy-based model over (image observation, action) pairs, late fusion."""
from typing import Callable

import gin
import tensorflow as tf
from tf_agents.typing import types

from ibc_agents.networks import mlp_ebm
from ibc_agents.networks import pixel_encoder


@gin.configurable
class PixelEBM(mlp_ebm.MLPEBM):
  """Scores actions for image observations: a conv encoder, then a dense ResNet.

  Called like `MLPEBM`: observations [B, ...] holding one uint8 image (see
  `pixel_encoder.PixelEncoder`), actions [B, N, A], scores [B, N]. The image
  is encoded once per observation and its embedding [B, E] tiled beside the
  N actions (late fusion): the encoder runs on B images, not B x N, and the
  agent and the policy reuse the embedding across sampler iterations too
  (see `late_fusion`).
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
               name: str = 'PixelEBM'):
    """Args as `MLPEBM`, plus:

    Args:
      encoder_class: called as encoder_class(observation_spec,
        compute_dtype=compute_dtype); maps observations to embeddings [B, E]
        and takes `training=` (augmentation runs only in training).
    """
    super().__init__(observation_spec, action_spec, width, depth, activation,
                     dropout_rate, compute_dtype, name)
    self._encoder = encoder_class(observation_spec,
                                  compute_dtype=compute_dtype)

  def encode(self, observations: types.NestedTensor,
             training: bool = False) -> tf.Tensor:
    """The image and low-dimensional leaves embedded: [B, E]."""
    return self._encoder(observations, training=training)
