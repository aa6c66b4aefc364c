"""Random draws for samplers: TensorFlow's stream, or keyed per batch row.

With `tf.random` a batch row's numbers depend on which rows share its batch,
so a policy's action for one observation, and an evaluation's result,
depend on how many episodes act together. `RowKeyedDraws` derives each
row's numbers from that row's key alone (e.g. `observation_keys`, a hash of
its observation), through a counter-based hash (murmur3's 32-bit
finaliser): the same row draws the same numbers in any batch. Shapes: rows
B first, any dimensions after.
"""
from typing import Optional

import tensorflow as tf

_MIX_1 = 0x85EBCA6B
_MIX_2 = 0xC2B2AE35
_WEYL = 0x9E3779B9  # the golden ratio in 32 bits: spreads consecutive counters
_TWO_TO_MINUS_24 = 2.0**-24


def _uint32(value) -> tf.Tensor:
  return tf.constant(value, tf.uint32)


def _mix(bits: tf.Tensor) -> tf.Tensor:
  """Murmur3's finaliser: a bijection of uint32 whose outputs look random."""
  bits = tf.bitwise.bitwise_xor(bits, tf.bitwise.right_shift(bits, _uint32(16)))
  bits *= _uint32(_MIX_1)
  bits = tf.bitwise.bitwise_xor(bits, tf.bitwise.right_shift(bits, _uint32(13)))
  bits *= _uint32(_MIX_2)
  return tf.bitwise.bitwise_xor(bits, tf.bitwise.right_shift(bits, _uint32(16)))


def _as_bits(values: tf.Tensor) -> tf.Tensor:
  """The values' bits as uint32, rows first: [B, D] from [B, ...]."""
  values = tf.convert_to_tensor(values)
  if values.dtype.is_floating:
    bits = tf.bitcast(tf.cast(values, tf.float32), tf.uint32)
  elif values.dtype == tf.bool:
    bits = tf.cast(values, tf.uint32)
  else:
    bits = tf.cast(tf.cast(values, tf.int64), tf.uint32)
  return tf.reshape(bits, [tf.shape(bits)[0], -1])


def observation_keys(observation, seed: int = 0) -> tf.Tensor:
  """A key per batch row [B] uint32: a hash of the row's observation and `seed`.

  Every leaf of the observation nest [B, ...] counts, bit for bit; rows with
  equal observations share a key.
  """
  leaves = tf.nest.flatten(observation)
  keys = tf.fill(tf.shape(leaves[0])[:1], _mix(_uint32(seed & 0xFFFFFFFF)))
  for leaf_index, leaf in enumerate(leaves):
    bits = _as_bits(leaf)  # [B, D]
    positions = tf.cast(tf.range(tf.shape(bits)[1]), tf.uint32)
    weights = tf.bitwise.bitwise_or(
        _mix(positions * _uint32(_WEYL) + _uint32(leaf_index + 1)),
        _uint32(1))  # odd: every bit of a value moves the sum
    keys = _mix(keys + tf.reduce_sum(bits * weights, axis=1))
  return keys


class TFRandomDraws:
  """`tf.random`'s stateful stream: TF-Agents' usual randomness."""

  def uniform(self, shape, counter=None) -> tf.Tensor:
    del counter
    return tf.random.uniform(shape)

  def normal(self, shape, counter=None) -> tf.Tensor:
    del counter
    return tf.random.normal(shape)


TF_RANDOM = TFRandomDraws()


class RowKeyedDraws:
  """Numbers that depend only on the row's key, the call and `counter`.

  Each `uniform` or `normal` call made while tracing takes the next stream
  of the row's key; `counter` (a tensor, e.g. a loop step) selects among
  the draws of one call site inside a loop, which traces once.
  """

  def __init__(self, keys: tf.Tensor):
    """Args: keys: one key per row [B] uint32 (`observation_keys`)."""
    self._keys = tf.convert_to_tensor(keys, tf.uint32)
    self._calls = 0

  def _bits(self, shape, counter: Optional[tf.Tensor]) -> tf.Tensor:
    """Random uint32 of `shape` [B, ...]."""
    self._calls += 1
    stream = _uint32(self._calls * _WEYL & 0xFFFFFFFF)
    if counter is not None:
      stream = _mix(stream + tf.cast(counter, tf.uint32))
    row_streams = _mix(tf.bitwise.bitwise_xor(self._keys, _mix(stream)))
    shape = tf.convert_to_tensor(shape, tf.int32)
    per_row = tf.reduce_prod(shape[1:])
    positions = tf.cast(tf.range(per_row), tf.uint32) * _uint32(_WEYL)
    bits = _mix(_mix(row_streams[:, None] + positions[None, :]))
    return tf.reshape(bits, shape)

  def uniform(self, shape, counter=None) -> tf.Tensor:
    """Uniform in [0, 1), float32 of `shape` [B, ...]."""
    bits = tf.bitwise.right_shift(self._bits(shape, counter), _uint32(8))
    return tf.cast(bits, tf.float32) * _TWO_TO_MINUS_24

  def normal(self, shape, counter=None) -> tf.Tensor:
    """Standard normal, float32 of `shape` [B, ...] (Box-Muller)."""
    radius = tf.sqrt(-2.0 * tf.math.log(1.0 - self.uniform(shape, counter)))
    angle = 2.0 * 3.141592653589793 * self.uniform(shape, counter)
    return radius * tf.cos(angle)
