"""Mixture density network on image observations, for the MDN baseline."""
import gin

from ibc_agents.networks import mlp_mdn
from ibc_agents.networks import pixel_encoder


@gin.configurable
class PixelMDN(pixel_encoder.EncodedPixels, mlp_mdn.MLPMDN):
  """`MLPMDN` on the embedding of a `pixel_encoder.PixelEncoder`.

  Observations [B, ...] hold one uint8 image; the output is
  `mlp_mdn.MixtureParameters` over normalised actions. Same encoder as
  `PixelEBM`, for a like-for-like comparison. Arguments: `MLPMDN`'s keywords
  and `encoder_class` (`pixel_encoder.EncodedPixels`).
  """
