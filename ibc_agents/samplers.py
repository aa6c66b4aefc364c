"""Action samplers for energy-based policies (pure functions).

Scores are negative energies: higher is better. Shapes: B batch, N samples per
batch row, A action dimensions. `dfo_maximize`, `autoregressive_dfo`,
`langevin_maximize` and `dfo_then_langevin` are `protocols.Sampler`s: their
own parameters are keyword arguments, bound with gin where they are used.
Random numbers come from `draws` (`keyed_random`; TensorFlow's stream by
default).
"""
from typing import Optional

import gin
import tensorflow as tf

from ibc_agents import keyed_random
from ibc_agents.protocols import Draws
from ibc_agents.protocols import SampleResult
from ibc_agents.protocols import ScoreFn
from ibc_agents.protocols import StepSizeSchedule


def uniform_actions(batch_size: tf.Tensor, num_samples: int, low: tf.Tensor,
                    high: tf.Tensor, draws: Draws = keyed_random.TF_RANDOM
                    ) -> tf.Tensor:
  """Draws actions uniformly inside [low, high]: [B, N, A] from low, high [A]."""
  low = tf.convert_to_tensor(low, tf.float32)
  high = tf.convert_to_tensor(high, tf.float32)
  shape = tf.stack([batch_size, num_samples, tf.shape(low)[0]])
  return draws.uniform(shape) * (high - low) + low


def resample_indices(logits: tf.Tensor,
                     draws: Draws = keyed_random.TF_RANDOM) -> tf.Tensor:
  """N draws per row from softmax(logits): indices [B, N] from logits [B, N].

  Inverse-CDF sampling (one uniform per draw, a sorted search): the same
  distribution as `tf.random.categorical`, whose XLA form draws N x N
  uniforms per row (60 ms for 1024 samples on a CPU core).
  """
  cdf = tf.cumsum(tf.nn.softmax(logits, axis=-1), axis=-1)
  uniforms = draws.uniform(tf.shape(logits)) * cdf[:, -1:]
  return tf.minimum(tf.searchsorted(cdf, uniforms, side='right'),
                    tf.shape(logits)[1] - 1)


@gin.configurable
def dfo_maximize(score_fn: ScoreFn,
                 actions: tf.Tensor,
                 low: tf.Tensor,
                 high: tf.Tensor,
                 num_iterations: int = 3,
                 noise_scale: float = 0.33,
                 noise_shrink: float = 0.5,
                 temperature: float = 1.0,
                 draws: Draws = keyed_random.TF_RANDOM,
                 ) -> SampleResult:
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
    draws: the random numbers.

  Returns:
    (best actions [B, A], final population [B, N, A], its scores [B, N]).
  """
  noise_std = noise_scale
  for _ in range(num_iterations):
    scores = score_fn(actions)
    actions = tf.gather(actions, resample_indices(scores / temperature, draws),
                        batch_dims=1)
    actions += draws.normal(tf.shape(actions)) * noise_std
    actions = tf.clip_by_value(actions, low, high)
    noise_std *= noise_shrink
  return _best(score_fn, actions)


@gin.configurable
def autoregressive_dfo(score_fn: ScoreFn,
                       actions: tf.Tensor,
                       low: tf.Tensor,
                       high: tf.Tensor,
                       num_iterations: int = 3,
                       noise_scale: float = 0.33,
                       noise_shrink: float = 0.5,
                       temperature: float = 1.0,
                       draws: Draws = keyed_random.TF_RANDOM,
                       ) -> SampleResult:
  """Chooses the action one dimension at a time (IBC paper, Section 3).

  For dimension j = 0, 1, ..., the N values of the population's column j are
  searched by 1-D DFO on `score_fn(actions, dimension=j)`, with the
  dimensions before j fixed at the values chosen for them; the best value is
  kept. `score_fn` must accept `dimension` (an autoregressive network such
  as `ar_mlp_ebm.ARMLPEBM`, through `late_fusion.score_fn`).

  Args:
    score_fn: maps actions [B, N, A] and `dimension=j` to scores [B, N] that
      depend on the actions' dimensions 0..j only.
    actions: initial population [B, N, A]; column j seeds dimension j.
    low, high: action bounds [A].
    num_iterations, noise_scale, noise_shrink, temperature, draws: as
      `dfo_maximize`, for every dimension's search.

  Returns:
    (best actions [B, A], final population [B, N, A] with the chosen prefix
    and each column's last candidates, the last dimension's scores [B, N]).
  """
  action_size = actions.shape[-1]
  chosen = tf.zeros_like(actions[:, 0, :])  # [B, A]
  for dimension in range(action_size):
    is_dimension = tf.one_hot(dimension, action_size)  # [A]

    def with_values(values, chosen=chosen, is_dimension=is_dimension):
      """Values [B, N, 1] of this dimension after the chosen prefix: [B, N, A]."""
      return chosen[:, None, :] * (1.0 - is_dimension) + values * is_dimension

    def dimension_score_fn(values, dimension=dimension,
                           with_values=with_values):
      return score_fn(with_values(values), dimension=dimension)

    best, values, scores = dfo_maximize(
        dimension_score_fn, actions[:, :, dimension:dimension + 1],
        low[dimension:dimension + 1], high[dimension:dimension + 1],
        num_iterations=num_iterations, noise_scale=noise_scale,
        noise_shrink=noise_shrink, temperature=temperature, draws=draws)
    chosen += best * is_dimension
  return SampleResult(chosen, with_values(values), scores)


@gin.configurable
class PolynomialSchedule:
  """Step size decaying from `initial` to `final` as (1 - k / (K - 1))^power."""

  def __init__(self, initial: float = 0.1, final: float = 1e-5,
               power: float = 2.0):
    self.initial, self.final, self.power = initial, final, power

  def __call__(self, step: tf.Tensor, num_steps: int) -> tf.Tensor:
    remaining = 1.0 - step / max(num_steps - 1, 1)
    return (self.initial - self.final) * remaining**self.power + self.final


@gin.configurable
class ExponentialSchedule:
  """Step size `initial * decay^k`."""

  def __init__(self, initial: float = 0.1, decay: float = 0.9):
    self.initial, self.decay = initial, decay

  def __call__(self, step: tf.Tensor, num_steps: int) -> tf.Tensor:
    del num_steps
    return self.initial * self.decay**step


def score_gradients(score_fn: ScoreFn, actions: tf.Tensor
                    ) -> tuple[tf.Tensor, tf.Tensor]:
  """Scores [B, N] and their gradients with respect to the actions [B, N, A]."""
  with tf.GradientTape() as tape:
    tape.watch(actions)
    scores = score_fn(actions)
  return scores, tape.gradient(scores, actions)


def langevin_actions(score_fn: ScoreFn,
                     actions: tf.Tensor,
                     low: tf.Tensor,
                     high: tf.Tensor,
                     num_iterations: int = 100,
                     step_size: StepSizeSchedule = PolynomialSchedule(),
                     noise_scale: float = 1.0,
                     delta_action_clip: float = 0.1,
                     stop_below: Optional[float] = None,
                     draws: Draws = keyed_random.TF_RANDOM,
                     sqrt_step_noise: bool = False,
                     ) -> tf.Tensor:
  """Runs Langevin MCMC on the energy -score (the IBC paper, Eq. 7).

  Each step moves every action by
  clip(step_size * (0.5 * d score / da + noise_scale * noise), +-c), with c
  `delta_action_clip` times half the action range, then clips to bounds.
  With `sqrt_step_noise` the noise term is instead
  noise_scale * sqrt(2 * step_size) * noise, the textbook Langevin scale
  (the paper's Eq. 7 and its code scale the noise by the step size).
  With `stop_below`, the chains stop early once a step moved no action
  coordinate by more than `stop_below` (action units): at acting time, the
  remaining steps would not change the choice.

  Args:
    score_fn: maps actions [B, N, A] to scores [B, N].
    actions: chain starts [B, N, A].
    low, high: action bounds [A].
    num_iterations: Langevin steps.
    step_size: schedule called as step_size(step, num_iterations).
    noise_scale: standard deviation of the injected noise (before step size).
    delta_action_clip: largest move per step, as a fraction of half the range.
    stop_below: stop once no coordinate moved by more than this in a step
      (None: run every step).
    draws: the random numbers.
    sqrt_step_noise: scale the noise by sqrt(2 * step_size) instead of
      step_size.

  Returns:
    The chains' final actions [B, N, A].
  """
  max_delta = delta_action_clip * 0.5 * (high - low)

  def langevin_step(step, actions, largest_move):
    _, gradients = score_gradients(score_fn, actions)
    noise = draws.normal(tf.shape(actions), counter=step) * noise_scale
    size = step_size(tf.cast(step, tf.float32), num_iterations)
    noise_size = tf.sqrt(2.0 * size) if sqrt_step_noise else size
    delta = tf.clip_by_value(size * 0.5 * gradients + noise_size * noise,
                             -max_delta, max_delta)
    moved = tf.clip_by_value(actions + delta, low, high)
    if stop_below is not None:  # measured only when it can stop the chains
      largest_move = tf.reduce_max(tf.abs(moved - actions))
    return step + 1, moved, largest_move

  def keep_going(step, actions, largest_move):
    del actions
    if stop_below is None:
      return step < num_iterations
    return tf.logical_and(step < num_iterations, largest_move > stop_below)

  _, actions, _ = tf.while_loop(
      keep_going, langevin_step,
      (tf.constant(0), actions, tf.constant(float('inf'))))
  return actions


@gin.configurable
def langevin_maximize(score_fn: ScoreFn,
                      actions: tf.Tensor,
                      low: tf.Tensor,
                      high: tf.Tensor,
                      num_iterations: int = 100,
                      step_size: StepSizeSchedule = PolynomialSchedule(),
                      noise_scale: float = 1.0,
                      delta_action_clip: float = 0.1,
                      stop_below: Optional[float] = None,
                      draws: Draws = keyed_random.TF_RANDOM,
                      sqrt_step_noise: bool = False,
                      ) -> SampleResult:
  """Langevin chains from `actions` (`langevin_actions`), then the best.

  Args:
    score_fn, actions, low, high, draws: as `langevin_actions`.
    num_iterations, step_size, noise_scale, delta_action_clip, stop_below,
      sqrt_step_noise: the chains' parameters, as `langevin_actions`. Bind
      them on this sampler, scoped where two uses differ
      (`counter_examples/langevin_maximize...`), with a schedule of that
      scope (`@counter_examples/PolynomialSchedule()`).

  Returns:
    (best actions [B, A], final chains [B, N, A], their scores [B, N]).
  """
  actions = langevin_actions(score_fn, actions, low, high, num_iterations,
                             step_size, noise_scale, delta_action_clip,
                             stop_below, draws, sqrt_step_noise)
  return _best(score_fn, actions)


@gin.configurable
def dfo_then_langevin(score_fn: ScoreFn,
                      actions: tf.Tensor,
                      low: tf.Tensor,
                      high: tf.Tensor,
                      draws: Draws = keyed_random.TF_RANDOM,
                      ) -> SampleResult:
  """DFO to find the mode, then Langevin chains to refine its population.

  Both steps take their parameters from their own bindings
  (`dfo_maximize.*`, `langevin_maximize.*`).
  """
  _, actions, _ = dfo_maximize(score_fn, actions, low, high, draws=draws)
  return langevin_maximize(score_fn, actions, low, high, draws=draws)


def _best(score_fn: ScoreFn, actions: tf.Tensor) -> SampleResult:
  """(argmax action [B, A], actions [B, N, A], scores [B, N])."""
  scores = score_fn(actions)
  best = tf.argmax(scores, axis=1, output_type=tf.int32)
  return SampleResult(tf.gather(actions, best, batch_dims=1), actions, scores)
