"""Observation and action normalisers built from dataset statistics."""
from typing import Optional

import gin
import numpy as np
import tensorflow as tf
from tf_agents.typing import types

_MIN_STD = 1e-6
_MIN_RANGE = 1e-6


def _require_finite(name: str, values: np.ndarray) -> None:
  if not np.all(np.isfinite(values)):
    raise ValueError(f'{name} must be finite, got '
                     f'{np.asarray(values).tolist()}.')


class ObservationNormalizer(tf.Module):
  """Standardises each observation leaf: (x - mean) / std, per element.

  Works on leaves with any number of outer dimensions ([B, ...] or
  [B, T, ...] with a history), since mean and std broadcast from the right.
  A leaf whose mean is None (an image, see data_tools'
  `DatasetStatistics`) passes through unchanged, in its own dtype.
  """

  def __init__(self, mean: types.NestedArray, std: types.NestedArray,
               name: str = 'observation_normalizer'):
    super().__init__(name=name)
    for label, nest in (('mean', mean), ('std', std)):
      for leaf in tf.nest.flatten(nest):
        if leaf is not None:
          _require_finite(f'observation {label}', leaf)
    self._mean = tf.nest.map_structure(
        lambda m: None if m is None else tf.constant(m, tf.float32), mean)
    self._std = tf.nest.map_structure(
        lambda s: None if s is None else tf.constant(
            np.maximum(s, _MIN_STD), tf.float32), std)

  def __call__(self, observation: types.NestedTensor) -> types.NestedTensor:
    tf.nest.assert_same_structure(observation, self._mean)
    return tf.nest.map_structure(
        lambda x, m, s: x if m is None else (tf.cast(x, tf.float32) - m) / s,
        observation, self._mean, self._std)


@gin.configurable
class ActionNormalizer(tf.Module):
  """Maps actions between their sampling bounds and [-1, 1].

  The sampling bounds are the demonstrated action range widened by
  `boundary_buffer` times its width on each side, kept inside the action
  spec's own bounds. Samplers then work in [-1, 1] for every task.
  """

  def __init__(self, action_spec: types.BoundedTensorSpec,
               action_min: Optional[np.ndarray] = None,
               action_max: Optional[np.ndarray] = None,
               boundary_buffer: float = 0.05,
               name: str = 'action_normalizer'):
    super().__init__(name=name)
    spec_min = np.broadcast_to(action_spec.minimum, action_spec.shape)
    spec_max = np.broadcast_to(action_spec.maximum, action_spec.shape)
    low = spec_min if action_min is None else np.asarray(action_min)
    high = spec_max if action_max is None else np.asarray(action_max)
    if low.shape != tuple(action_spec.shape) or high.shape != low.shape:
      raise ValueError(
          f'action_min/action_max have shapes {low.shape}/{high.shape}, '
          f'expected {tuple(action_spec.shape)} from the action spec.')
    for label, given in (('action_min', action_min),
                         ('action_max', action_max)):
      if given is not None:
        _require_finite(label, np.asarray(given))
    if np.any(low > high):
      raise ValueError(f'action_min {low.tolist()} exceeds action_max '
                       f'{high.tolist()}.')
    buffer = boundary_buffer * (high - low)
    low = np.maximum(low - buffer, spec_min)
    high = np.minimum(high + buffer, spec_max)
    high = np.maximum(high, low + _MIN_RANGE)
    self.low = tf.constant(low, tf.float32)
    self.high = tf.constant(high, tf.float32)
    self._spec_min = tf.constant(spec_min, tf.float32)
    self._spec_max = tf.constant(spec_max, tf.float32)

  def normalize(self, action: tf.Tensor) -> tf.Tensor:
    """[..., A] in sampling bounds -> [..., A] in [-1, 1]."""
    return 2.0 * (tf.cast(action, tf.float32) - self.low) / (
        self.high - self.low) - 1.0

  def denormalize(self, action: tf.Tensor) -> tf.Tensor:
    """[..., A] in [-1, 1] -> [..., A] clipped to the action spec's bounds."""
    action = (action + 1.0) / 2.0 * (self.high - self.low) + self.low
    return tf.clip_by_value(action, self._spec_min, self._spec_max)
