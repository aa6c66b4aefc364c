"""Action samplers for energy-based policies (pure functions).

Scores are negative energies: higher is better. Shapes: B batch, N samples per
batch row, A action dimensions.
"""
from typing import Callable, Optional, Tuple

import gin
import tensorflow as tf

ScoreFn = Callable[[tf.Tensor], tf.Tensor]  # actions [B, N, A] -> scores [B, N]


def uniform_actions(batch_size: tf.Tensor, num_samples: int, low: tf.Tensor,
                    high: tf.Tensor, seed: Optional[int] = None) -> tf.Tensor:
  """Draws actions uniformly inside [low, high]: [B, N, A] from low, high [A]."""
  low = tf.convert_to_tensor(low, tf.float32)
  high = tf.convert_to_tensor(high, tf.float32)
  shape = tf.stack([batch_size, num_samples, tf.shape(low)[0]])
  return tf.random.uniform(shape, seed=seed) * (high - low) + low


@gin.configurable
def dfo_maximize(score_fn: ScoreFn,
                 actions: tf.Tensor,
                 low: tf.Tensor,
                 high: tf.Tensor,
                 num_iterations: int = 3,
                 noise_scale: float = 0.33,
                 noise_shrink: float = 0.5,
                 temperature: float = 1.0,
                 ) -> Tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
  """Derivative-free optimisation of `score_fn` (the IBC paper, Algorithm 1).

  Each iteration resamples the population in proportion to
  softmax(score / temperature), perturbs it with Gaussian noise whose standard
  deviation shrinks by `noise_shrink` per iteration, and clips it to bounds.

  Args:
    score_fn: maps actions [B, N, A] to scores [B, N].
    actions: initial population [B, N, A], e.g. from `uniform_actions`.
    low, high: action bounds [A].
    num_iterations: resample-and-perturb rounds.
    noise_scale: initial noise standard deviation, in action units.
    noise_shrink: factor applied to the noise after every round.
    temperature: softmax temperature of the resampling.

  Returns:
    (best actions [B, A], final population [B, N, A], its scores [B, N]).
  """
  num_samples = tf.shape(actions)[1]
  noise_std = noise_scale
  for _ in range(num_iterations):
    scores = score_fn(actions)
    indices = tf.random.categorical(scores / temperature, num_samples)
    actions = tf.gather(actions, indices, batch_dims=1)
    actions += tf.random.normal(tf.shape(actions)) * noise_std
    actions = tf.clip_by_value(actions, low, high)
    noise_std *= noise_shrink
  scores = score_fn(actions)
  best = tf.argmax(scores, axis=1, output_type=tf.int32)
  best_actions = tf.gather(actions, best, batch_dims=1)
  return best_actions, actions, scores
