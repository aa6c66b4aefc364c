"""Energy-based model over (image observation, action) pairs, late fusion."""
import gin

from ibc_agents.networks import mlp_ebm
from ibc_agents.networks import pixel_encoder


@gin.configurable
class PixelEBM(pixel_encoder.EncodedPixels, mlp_ebm.MLPEBM):
  """Scores actions for image observations: a conv encoder, then a dense ResNet.

  Called like `MLPEBM`: observations [B, ...] holding one uint8 image (see
  `pixel_encoder.PixelEncoder`), actions [B, N, A], scores [B, N]. The image
  is encoded once per observation and its embedding [B, E] tiled beside the
  N actions (late fusion): the encoder runs on B images, not B x N, and the
  agent and the policy reuse the embedding across sampler iterations too
  (see `late_fusion`). Arguments: `MLPEBM`'s keywords and `encoder_class`
  (`pixel_encoder.EncodedPixels`); `spectral_norm` normalises the dense
  ResNet's kernels, not the encoder's convolutions.
  """
