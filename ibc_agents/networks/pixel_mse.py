"""Explicit regression from image observations, for the MSE baseline."""
import gin

from ibc_agents.networks import mlp_mse
from ibc_agents.networks import pixel_encoder


@gin.configurable
class PixelMSE(pixel_encoder.EncodedPixels, mlp_mse.MLPMSE):
  """`MLPMSE` on the embedding of a `pixel_encoder.PixelEncoder`.

  Observations [B, ...] hold one uint8 image; the output is one action
  [B, A] in normalised units. Same encoder as `PixelEBM`, for a like-for-like
  comparison. Arguments: `MLPMSE`'s keywords and `encoder_class`
  (`pixel_encoder.EncodedPixels`).
  """
