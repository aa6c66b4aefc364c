"""The typed contracts between energy networks, samplers, policies and agents.

Shapes: B batch, N samples per batch row, A action dimensions. Scores are
negative energies: higher is better.
"""
from typing import Callable, NamedTuple, Protocol

import tensorflow as tf


class ScoreFn(Protocol):
  """Maps actions [B, N, A] to scores [B, N] for fixed observations.

  Keyword arguments select a part of the score where a network has parts
  (`dimension=j` for an autoregressive energy).
  """

  def __call__(self, actions: tf.Tensor, **kwargs) -> tf.Tensor:
    ...


class SampleResult(NamedTuple):
  """What a sampler returns."""
  best: tf.Tensor  # the highest-scoring action of each row [B, A]
  actions: tf.Tensor  # the final population [B, N, A]
  scores: tf.Tensor  # its scores [B, N]


class Draws(Protocol):
  """Where a sampler's random numbers come from (`keyed_random`).

  Shapes are [B, ...], rows first; `counter` (a scalar tensor) tells apart
  the draws of one call site traced once inside a loop.
  """

  def uniform(self, shape, counter=None) -> tf.Tensor:
    """Uniform in [0, 1) of `shape`."""
    ...

  def normal(self, shape, counter=None) -> tf.Tensor:
    """Standard normal of `shape`."""
    ...


class Sampler(Protocol):
  """Searches actions of high score from an initial population.

  The policies call it to act (`IbcPolicy.sampler`), the agents to refine
  counter-examples (`ImplicitBCAgent.counter_example_sampler`). Its own
  parameters are keyword arguments with defaults, bound with gin.
  """

  def __call__(self, score_fn: ScoreFn, actions: tf.Tensor, low: tf.Tensor,
               high: tf.Tensor, draws: Draws = ...) -> SampleResult:
    """Args: score_fn; actions [B, N, A]; low, high [A] bounds; draws: its
    random numbers (default `keyed_random.TF_RANDOM`)."""
    ...


# Step size of chain step k of K, called as schedule(k, K).
StepSizeSchedule = Callable[[tf.Tensor, int], tf.Tensor]
