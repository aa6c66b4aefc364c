"""Energy-based model over (observation, action) pairs for state inputs."""
import gin
import tensorflow as tf
from tf_agents.typing import types

from ibc_agents.networks import late_fusion
from ibc_agents.networks import layers


@gin.configurable
class MLPEBM(late_fusion.LateFusionEBM):
  """Scores actions for an observation with a dense pre-activation ResNet.

  Called as `network((observations, actions))`: observations are a nest of
  [B, ...] tensors (normalised, possibly with a history dimension), actions
  are [B, N, A] candidates, and the output is one score per candidate [B, N]
  (higher is better: the score is the negative energy). Actions [B, A] give
  scores [B]. The observation embedding is its leaves flattened and
  concatenated; the ResNet takes it beside each action (see
  `late_fusion.LateFusionEBM`). `compute_dtype='bfloat16'` runs the ResNet
  body in bfloat16 (see `layers.ResNetPreActivationDense`); the score head
  stays float32.

  `spectral_norm=True` divides every dense kernel of the ResNet by its
  largest singular value (Miyato et al. 2018; `layers.SpectralNormDense`),
  as the IBC paper's N-D particle energy does (Appendix D.3); the score head
  stays unnormalised, so the energy's scale is still learned.
  """

  def __init__(self,
               observation_spec: types.NestedTensorSpec,
               action_spec: types.TensorSpec,
               width: int = 256,
               depth: int = 2,
               activation: str = 'relu',
               dropout_rate: float = 0.0,
               compute_dtype: str = 'float32',
               spectral_norm: bool = False,
               name: str = 'MLPEBM'):
    super().__init__(input_tensor_spec=(observation_spec, action_spec),
                     state_spec=(), name=name)
    self._body = layers.ResNetPreActivationDense(
        width, depth, activation, dropout_rate, compute_dtype, spectral_norm)
    self._score = tf.keras.layers.Dense(1, name='score')

  def encode(self, observations: types.NestedTensor,
             training: bool = False) -> tf.Tensor:
    """Every observation leaf flattened and concatenated: [B, D]."""
    del training
    return layers.flatten_observation(observations)

  def score_embedding(self, embedding: tf.Tensor, actions: tf.Tensor,
                      training: bool = False) -> tf.Tensor:
    """Scores [B, N] of actions [B, N, A] for embeddings [B, E]."""
    num_actions = tf.shape(actions)[1]
    tiled = tf.tile(embedding[:, None, :], tf.stack([1, num_actions, 1]))
    features = tf.concat([tiled, tf.cast(actions, tf.float32)], axis=-1)
    return tf.squeeze(self._score(self._body(features, training=training)),
                      axis=-1)
