"""Losses for energy-based behavioural cloning (pure functions)."""
import tensorflow as tf


def info_nce(scores: tf.Tensor, positive_index: int = -1) -> tf.Tensor:
  """InfoNCE loss: cross-entropy of picking the demonstrated action.

  The IBC paper, Eq. 5: -log softmax over the positive and its counter-examples.

  Args:
    scores: [B, N+1] scores (negative energies) of N counter-examples and the
      positive.
    positive_index: column of `scores` that holds the demonstrated action.

  Returns:
    Per-example loss [B].
  """
  log_probs = tf.nn.log_softmax(scores, axis=-1)
  return -log_probs[:, positive_index]
