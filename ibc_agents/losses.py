"""Losses for energy-based behavioural cloning (pure functions)."""
import gin
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


@gin.configurable
def gradient_penalty(score_gradients: tf.Tensor, margin: float = 1.0,
                     norm_order: float = float('inf'),
                     squared: bool = True) -> tf.Tensor:
  """Hinge on the norm of d energy / d action beyond `margin` (IBC, App. B.3).

  Keeps the energy landscape smooth enough for Langevin sampling.

  Args:
    score_gradients: gradients of the scores with respect to actions [B, N, A].
    margin: gradient norm allowed without penalty.
    norm_order: order of the per-action gradient norm (inf, 1, 2, ...).
    squared: square the hinge.

  Returns:
    Per-example penalty [B], averaged over the N actions.
  """
  norms = tf.norm(score_gradients, ord=norm_order, axis=-1)  # [B, N]
  hinge = tf.nn.relu(norms - margin)
  if squared:
    hinge = tf.square(hinge)
  return tf.reduce_mean(hinge, axis=-1)
