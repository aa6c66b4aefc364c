"""Mixture density network over actions, for the MDN baseline (Bishop 1994)."""
from typing import NamedTuple, Optional, Tuple

import gin
import tensorflow as tf
import tensorflow_probability as tfp
from tf_agents.networks import network
from tf_agents.typing import types

from ibc_agents.networks import layers


class MixtureParameters(NamedTuple):
  """A mixture of K diagonal Gaussians over normalised actions."""
  logits: tf.Tensor  # [B, K]
  means: tf.Tensor  # [B, K, A]
  scales: tf.Tensor  # [B, K, A], positive


def mixture_distribution(
    parameters: MixtureParameters) -> tfp.distributions.Distribution:
  """The mixture as a distribution over [B, A]; log_prob uses log-sum-exp."""
  return tfp.distributions.MixtureSameFamily(
      tfp.distributions.Categorical(logits=parameters.logits),
      tfp.distributions.Independent(
          tfp.distributions.Normal(parameters.means, parameters.scales),
          reinterpreted_batch_ndims=1))


def most_likely_mean(parameters: MixtureParameters) -> tf.Tensor:
  """The mean [B, A] of each row's most probable component."""
  best = tf.argmax(parameters.logits, axis=-1, output_type=tf.int32)  # [B]
  return tf.gather(parameters.means, best, axis=1, batch_dims=1)


@gin.configurable
class MLPMDN(network.Network):
  """Maps observations to `MixtureParameters` with a dense ResNet.

  Observations are a nest of [B, ...] tensors (normalised, possibly with a
  history dimension [B, T, ...]). The network returns plain tensors rather
  than a distribution, so policies built on it trace into SavedModels like any
  other. Scales are softplus(x) + `min_scale`: bounded below, so the
  likelihood can neither divide by zero nor grow without bound.
  `compute_dtype='bfloat16'` runs the ResNet body in bfloat16 (see
  `layers.ResNetPreActivationDense`); the mixture heads stay float32.
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
               name: str = 'MLPMDN'):
    super().__init__(input_tensor_spec=observation_spec, state_spec=(),
                     name=name)
    if num_components < 1 or min_scale <= 0:
      raise ValueError(
          f'num_components and min_scale must be positive, got '
          f'num_components={num_components}, min_scale={min_scale}.')
    self._num_components = num_components
    self._action_size = layers.action_size(action_spec)
    self._min_scale = min_scale
    self._body = layers.ResNetPreActivationDense(
        width, depth, activation, dropout_rate, compute_dtype)
    self._logits = tf.keras.layers.Dense(num_components, name='logits')
    self._means = tf.keras.layers.Dense(
        num_components * self._action_size, name='means')
    self._scales = tf.keras.layers.Dense(
        num_components * self._action_size, name='scales')

  def call(self, observations: types.NestedTensor,
           step_type: Optional[tf.Tensor] = None,
           network_state: types.NestedTensor = (),
           training: bool = False
           ) -> Tuple[MixtureParameters, types.NestedTensor]:
    del step_type
    features = self._body(self.encode(observations, training=training),
                          training=training)  # [B, width]
    shape = [-1, self._num_components, self._action_size]
    means = tf.reshape(self._means(features), shape)
    scales = tf.nn.softplus(
        tf.reshape(self._scales(features), shape)) + self._min_scale
    return MixtureParameters(self._logits(features), means,
                             scales), network_state

  def encode(self, observations: types.NestedTensor,
             training: bool = False) -> tf.Tensor:
    """Every observation leaf flattened and concatenated: [B, D]."""
    del training
    return layers.flatten_observation(observations)
