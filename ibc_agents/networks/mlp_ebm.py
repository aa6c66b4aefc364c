"""Energy-based model over (observation, action) pairs for state inputs."""
from typing import Optional, Tuple

import gin
import tensorflow as tf
from tf_agents.networks import network
from tf_agents.typing import types

from ibc_agents.networks import layers


@gin.configurable
class MLPEBM(network.Network):
  """Scores actions for an observation with a dense pre-activation ResNet.

  Called as `network((observations, actions))`: observations are a nest of
  [B, ...] tensors (normalised, possibly with a history dimension), actions
  are [B, N, A] candidates, and the output is one score per candidate [B, N]
  (higher is better: the score is the negative energy). Actions [B, A] give
  scores [B]. `compute_dtype='bfloat16'` runs the ResNet body in bfloat16
  (see `layers.ResNetPreActivationDense`); the score head stays float32.
  """

  def __init__(self,
               observation_spec: types.NestedTensorSpec,
               action_spec: types.TensorSpec,
               width: int = 256,
               depth: int = 2,
               activation: str = 'relu',
               dropout_rate: float = 0.0,
               compute_dtype: str = 'float32',
               name: str = 'MLPEBM'):
    super().__init__(input_tensor_spec=(observation_spec, action_spec),
                     state_spec=(), name=name)
    self._body = layers.ResNetPreActivationDense(
        width, depth, activation, dropout_rate, compute_dtype)
    self._score = tf.keras.layers.Dense(1, name='score')

  def call(self, inputs: Tuple[types.NestedTensor, tf.Tensor],
           step_type: Optional[tf.Tensor] = None,
           network_state: types.NestedTensor = (),
           training: bool = False) -> Tuple[tf.Tensor, types.NestedTensor]:
    del step_type
    observations, actions = inputs
    single_action = actions.shape.rank == 2
    if single_action:
      actions = actions[:, None, :]
    num_actions = tf.shape(actions)[1]
    embedding = layers.flatten_observation(observations)
    tiled = tf.tile(embedding[:, None, :], tf.stack([1, num_actions, 1]))
    features = tf.concat([tiled, tf.cast(actions, tf.float32)], axis=-1)
    scores = tf.squeeze(self._score(self._body(features, training=training)),
                        axis=-1)
    if single_action:
      scores = scores[:, 0]
    return scores, network_state
