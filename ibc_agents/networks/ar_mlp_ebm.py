"""Autoregressive energy model: one energy per action dimension.

The IBC paper (Section 3, Appendix B) scales derivative-free search to high
action dimensions by making the energy autoregressive: dimension j has an
energy E_j(o, a_1..a_j), so the action can be chosen one dimension at a time
(`samplers.autoregressive_dfo`), each a 1-D search, and trained with one
InfoNCE per dimension (`ibc_agent.AutoregressiveImplicitBCAgent`).
"""
from typing import Optional

import gin
import tensorflow as tf

from ibc_agents.networks import mlp_ebm


@gin.configurable
class ARMLPEBM(mlp_ebm.MLPEBM):
  """Per-dimension scores from one dense ResNet shared by the dimensions.

  The score of dimension j sees the observation embedding, the action with
  the dimensions after j zeroed, and a one-hot code of j. `score_embedding`
  with `dimension=j` returns that score [B, N]; without, the sum over the
  dimensions, a joint score for code that needs one (energy plots). Higher
  is better (negative energies). Arguments as `MLPEBM` (`spectral_norm`
  included: one power-iteration step per dimension's training call); the
  dimensions are the actions' last axis, known when traced.
  """

  def score_embedding(self, embedding: tf.Tensor, actions: tf.Tensor,
                      training: bool = False,
                      dimension: Optional[int] = None) -> tf.Tensor:
    """Scores [B, N] of actions [B, N, A] for embeddings [B, E].

    Args:
      embedding: `encode`'s output [B, E].
      actions: candidates [B, N, A].
      training: passed to the layers.
      dimension: j, a Python int: the score of dimension j, which depends on
        the action's dimensions 0..j only. None: the sum over dimensions.
    """
    action_size = actions.shape[-1]
    if dimension is None:
      return tf.add_n([self.score_embedding(embedding, actions, training, j)
                       for j in range(action_size)])
    num_actions = tf.shape(actions)[1]
    tiled = tf.tile(embedding[:, None, :], tf.stack([1, num_actions, 1]))
    visible = tf.cast(tf.range(action_size) <= dimension, tf.float32)
    code = tf.one_hot(dimension, action_size) * tf.ones_like(
        actions[..., :1])
    features = tf.concat([tiled, tf.cast(actions, tf.float32) * visible,
                          code], axis=-1)
    return tf.squeeze(self._score(self._body(features, training=training)),
                      axis=-1)
