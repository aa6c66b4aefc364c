"""Scores of candidate actions from any energy network, encoding once.

The agent and the policy score N actions per observation. A
`late_fusion.LateFusionEBM` is encoded once per batch and its embedding
scored against every action; any other energy network, called as
`network((observations, actions))`, is called whole every time.
"""
from tf_agents.networks import network
from tf_agents.typing import types

from ibc_agents import protocols
from ibc_agents.networks.late_fusion import LateFusionEBM


def encode(energy_network: network.Network, observations: types.NestedTensor,
           training: bool) -> types.NestedTensor:
  """Encodes observations for `score_fn`: [B, E] for a `LateFusionEBM`.

  Any other energy network gets the observations back unchanged.
  """
  if isinstance(energy_network, LateFusionEBM):
    return energy_network.encode(observations, training=training)
  return observations


def score_fn(energy_network: network.Network, encoded: types.NestedTensor,
             training: bool) -> protocols.ScoreFn:
  """Maps actions [B, N, A] to scores [B, N] for `encode`'s output.

  Keyword arguments of the returned function go to `score_embedding` (e.g.
  the `dimension` of an autoregressive network).
  """
  if isinstance(energy_network, LateFusionEBM):
    return lambda actions, **kwargs: energy_network.score_embedding(
        encoded, actions, training=training, **kwargs)
  return lambda actions: energy_network((encoded, actions),
                                        training=training)[0]
