"""Explicit regression network: observation -> action, for the MSE baseline."""
from typing import Optional, Tuple

import gin
import tensorflow as tf
from tf_agents.networks import network
from tf_agents.typing import types

from ibc_agents.networks import layers


@gin.configurable
class MLPMSE(network.Network):
  """Regresses the normalised action from the observation with a dense ResNet.

  Observations are a nest of [B, ...] tensors (normalised, possibly with a
  history dimension [B, T, ...]); the output is one action [B, A] in the
  normalised [-1, 1] units. The head is linear, not tanh: demonstrated actions
  lie strictly inside [-1, 1] (the normaliser widens their range), a tanh
  would only slow learning near the edges, and the policy clips to the spec.
  `compute_dtype='bfloat16'` runs the ResNet body in bfloat16 (see
  `layers.ResNetPreActivationDense`); the action head stays float32.
  """

  def __init__(self,
               observation_spec: types.NestedTensorSpec,
               action_spec: types.TensorSpec,
               width: int = 256,
               depth: int = 2,
               activation: str = 'relu',
               dropout_rate: float = 0.0,
               compute_dtype: str = 'float32',
               name: str = 'MLPMSE'):
    super().__init__(input_tensor_spec=observation_spec, state_spec=(),
                     name=name)
    self._body = layers.ResNetPreActivationDense(
        width, depth, activation, dropout_rate, compute_dtype)
    self._action = tf.keras.layers.Dense(layers.action_size(action_spec),
                                         name='action')

  def call(self, observations: types.NestedTensor,
           step_type: Optional[tf.Tensor] = None,
           network_state: types.NestedTensor = (),
           training: bool = False) -> Tuple[tf.Tensor, types.NestedTensor]:
    del step_type
    features = self._body(self.encode(observations, training=training),
                          training=training)
    return self._action(features), network_state

  def encode(self, observations: types.NestedTensor,
             training: bool = False) -> tf.Tensor:
    """Every observation leaf flattened and concatenated: [B, D]."""
    del training
    return layers.flatten_observation(observations)
