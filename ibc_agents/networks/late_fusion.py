"""Late fusion: encode each observation once, score many actions against it.

IBC scores N candidate actions per observation: the counter-examples in
training, and the samples of every sampler iteration when acting. An
energy network that is a `LateFusionEBM` splits into `encode` (the
observation alone, [B, ...] -> [B, E]) and `score_embedding` (the embedding
with each of the [B, N, A] actions); the agent and the policy encode a batch
once and reuse the embedding for all N actions and all sampler iterations
(`ibc_agents.scoring`). For a pixel network that is the difference between
running the image encoder on B images and on B x N x iterations of them.
"""
import abc
from typing import Optional, Tuple

import tensorflow as tf
from tf_agents.networks import network
from tf_agents.typing import types


class LateFusionEBM(network.Network):
  """An energy network split into an observation encoder and an action scorer.

  Called as `network((observations, actions))` it encodes the observations
  [B, ...] and scores actions [B, N, A] into [B, N] (actions [B, A] give
  [B]); higher scores are better (negative energies).
  """

  @abc.abstractmethod
  def encode(self, observations: types.NestedTensor,
             training: bool = False) -> tf.Tensor:
    """The embedding [B, E] of (normalised) observations [B, ...]."""

  @abc.abstractmethod
  def score_embedding(self, embedding: tf.Tensor, actions: tf.Tensor,
                      training: bool = False) -> tf.Tensor:
    """Scores [B, N] of actions [B, N, A] for embeddings [B, E]."""

  def call(self, inputs: Tuple[types.NestedTensor, tf.Tensor],
           step_type: Optional[tf.Tensor] = None,
           network_state: types.NestedTensor = (),
           training: bool = False) -> Tuple[tf.Tensor, types.NestedTensor]:
    del step_type
    observations, actions = inputs
    single_action = actions.shape.rank == 2
    if single_action:
      actions = actions[:, None, :]
    scores = self.score_embedding(self.encode(observations, training=training),
                                  actions, training=training)
    if single_action:
      scores = scores[:, 0]
    return scores, network_state
