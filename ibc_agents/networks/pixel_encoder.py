"""Image encoders of the pixel networks: conv trunks, pooling, random shifts.

`PixelEncoder` embeds an observation nest that holds one image (uint8,
[B, H, W, C], or [B, T, H, W, C] with a history) beside low-dimensional
leaves into [B, E]. The trunk, the pooling and the training augmentation are
classes chosen in gin (`PixelEncoder.trunk_class = @ResNetTrunk`).
"""
from typing import Any, Callable, Optional

import gin
import tensorflow as tf
from tf_agents.typing import types

from ibc_agents.networks import layers


def image_leaf_index(observation_spec: types.NestedTensorSpec) -> int:
  """Position in `tf.nest.flatten` order of the one uint8 (image) leaf.

  Raises:
    ValueError: If the spec has no image leaf or several.
  """
  flat = tf.nest.flatten(observation_spec)
  indices = [i for i, spec in enumerate(flat) if spec.dtype == tf.uint8]
  if len(indices) != 1:
    raise ValueError(f'A pixel network needs exactly one uint8 image in its '
                     f'observation, got {len(indices)} in {observation_spec}.')
  if flat[indices[0]].shape.rank not in (3, 4):
    raise ValueError(f'The image must be [H, W, C] or [T, H, W, C], got '
                     f'{flat[indices[0]].shape}.')
  return indices[0]


@gin.configurable
class RandomShift(tf.keras.layers.Layer):
  """Shifts each image by up to `pad` pixels in x and y, only while training.

  The same as padding by `pad` pixels (repeating the edge) and cropping the
  original size at a random offset per image: the augmentation of DrQ
  (Kostrikov et al., 2020), which keeps image policies from fitting exact
  pixel positions of a few hundred demonstrations. With `training=False`
  images pass unchanged.
  """

  def __init__(self, pad: int = 4, name: str = 'random_shift'):
    super().__init__(name=name)
    if pad < 0:
      raise ValueError(f'pad must be >= 0, got {pad}.')
    self._pad = pad

  def call(self, images: tf.Tensor, training: bool = False) -> tf.Tensor:
    """[B, H, W, C] -> [B, H, W, C], in the input's dtype."""
    if not training or self._pad == 0:
      return images
    shape = tf.shape(images)
    batch_size, height, width = shape[0], shape[1], shape[2]
    offsets = tf.random.uniform([batch_size, 2], -self._pad, self._pad + 1,
                                dtype=tf.int32)
    rows = tf.clip_by_value(tf.range(height)[None] + offsets[:, :1], 0,
                            height - 1)  # [B, H]
    columns = tf.clip_by_value(tf.range(width)[None] + offsets[:, 1:], 0,
                               width - 1)  # [B, W]
    images = tf.gather(images, rows, axis=1, batch_dims=1)
    return tf.gather(images, columns, axis=2, batch_dims=1)


@gin.configurable
class ConvMaxPoolTrunk(tf.keras.layers.Layer):
  """Stages of 3x3 convolution, ReLU and 2x2 max-pooling.

  [B, H, W, C] -> [B, H / (s 2^S), W / (s 2^S), filters[-1]] with
  S = len(filters) and s = `first_stride`, in `compute_dtype` (see
  `layers.precision_policy`). The full-resolution first stage costs the most
  on a CPU; `first_stride=2` cuts the trunk's train-step time about fourfold
  at 120 x 90 pixels.
  """

  def __init__(self, filters: tuple[int, ...] = (32, 64, 128),
               kernel_size: int = 3, first_stride: int = 1,
               compute_dtype: str = 'float32', name: str = 'conv_maxpool'):
    policy = layers.precision_policy(compute_dtype)
    super().__init__(name=name, dtype=policy)
    if not filters or min(filters) < 1 or first_stride < 1:
      raise ValueError(f'filters must be positive channel counts and '
                       f'first_stride >= 1, got {filters} and {first_stride}.')
    self._stages = [
        (tf.keras.layers.Conv2D(count, kernel_size,
                                strides=first_stride if i == 0 else 1,
                                padding='same', activation='relu',
                                dtype=policy, name=f'conv{i}'),
         tf.keras.layers.MaxPool2D(2, dtype=policy, name=f'pool{i}'))
        for i, count in enumerate(filters)]

  def call(self, images: tf.Tensor) -> tf.Tensor:
    x = images
    for convolution, pooling in self._stages:
      x = pooling(convolution(x))
    return x


@gin.configurable
class ResNetTrunk(tf.keras.layers.Layer):
  """A small ResNet, the IMPALA encoder (Espeholt et al., 2018).

  Each stage: a 3x3 convolution, 3x3 max-pooling with stride 2, then
  `blocks_per_stage` residual blocks x + conv(relu(conv(relu(x)))); a ReLU
  at the end. [B, H, W, C] -> [B, H / 2^S, W / 2^S, filters[-1]] with
  S = len(filters), in `compute_dtype`.
  """

  def __init__(self, filters: tuple[int, ...] = (16, 32, 32),
               blocks_per_stage: int = 2, compute_dtype: str = 'float32',
               name: str = 'resnet'):
    policy = layers.precision_policy(compute_dtype)
    super().__init__(name=name, dtype=policy)
    if not filters or min(filters) < 1 or blocks_per_stage < 0:
      raise ValueError(f'filters must be positive channel counts and '
                       f'blocks_per_stage >= 0, got {filters} and '
                       f'{blocks_per_stage}.')

    def conv(count, name):
      return tf.keras.layers.Conv2D(count, 3, padding='same', dtype=policy,
                                    name=name)

    self._stages = [
        (conv(count, f'stage{i}_conv'),
         tf.keras.layers.MaxPool2D(3, strides=2, padding='same', dtype=policy),
         [(conv(count, f'stage{i}_block{j}_conv0'),
           conv(count, f'stage{i}_block{j}_conv1'))
          for j in range(blocks_per_stage)])
        for i, count in enumerate(filters)]

  def call(self, images: tf.Tensor) -> tf.Tensor:
    x = images
    for convolution, pooling, blocks in self._stages:
      x = pooling(convolution(x))
      activated = tf.nn.relu(x)
      for conv0, conv1 in blocks:
        y = conv1(tf.nn.relu(conv0(activated)))
        # Two sums, as in `layers.ResNetPreActivationDense`: one feeding both
        # the ReLU and the residual stream makes TensorFlow 2.15's oneDNN
        # remapper fail and then fuse nothing in the graph.
        activated = tf.nn.relu(tf.add_n([x, y]))
        x = x + y
    return activated


@gin.configurable
class SpatialSoftmax(tf.keras.layers.Layer):
  """Where each channel responds: its expected image position, [B, h, w, C] -> [B, 2C].

  A softmax over the h x w positions of each channel, with a learned
  temperature, weighs the positions' (x, y) coordinates in [-1, 1] (Levine et
  al., 2016, End-to-end training of deep visuomotor policies): a compact
  feature of where things are, which pushing needs. float32 output.
  """

  def __init__(self, name: str = 'spatial_softmax'):
    super().__init__(name=name)
    self._log_temperature = None

  def build(self, input_shape: tf.TensorShape) -> None:
    self._log_temperature = self.add_weight(
        'log_temperature', shape=(), initializer='zeros')

  def call(self, features: tf.Tensor) -> tf.Tensor:
    features = tf.cast(features, tf.float32)
    shape = tf.shape(features)
    height, width, channels = shape[1], shape[2], shape[3]
    logits = tf.reshape(tf.transpose(features, [0, 3, 1, 2]),
                        [shape[0], channels, height * width])
    attention = tf.nn.softmax(
        logits / tf.exp(self._log_temperature))  # [B, C, h * w]
    ys, xs = tf.meshgrid(tf.linspace(-1.0, 1.0, height),
                         tf.linspace(-1.0, 1.0, width), indexing='ij')
    expected_x = tf.reduce_sum(attention * tf.reshape(xs, [1, 1, -1]), -1)
    expected_y = tf.reduce_sum(attention * tf.reshape(ys, [1, 1, -1]), -1)
    return tf.concat([expected_x, expected_y], axis=-1)


@gin.configurable
class GlobalAveragePool(tf.keras.layers.Layer):
  """Mean of each channel over positions: [B, h, w, C] -> [B, C] float32."""

  def __init__(self, name: str = 'global_average_pool'):
    super().__init__(name=name)

  def call(self, features: tf.Tensor) -> tf.Tensor:
    return tf.reduce_mean(tf.cast(features, tf.float32), axis=[1, 2])


@gin.configurable
class PixelEncoder(tf.keras.layers.Layer):
  """Embeds an observation of one image and low-dimensional leaves: [B, E].

  The image (uint8) has its history frames stacked along the channels
  ([B, T, H, W, C] -> [B, H, W, T * C]), is shifted at random while training
  (`augmentation_class`), scaled to [0, 1], run through the trunk and pooled;
  the other leaves (normalised already) are flattened and concatenated to
  the pooled features.
  """

  def __init__(self,
               observation_spec: types.NestedTensorSpec,
               trunk_class: Callable[..., tf.keras.layers.Layer] = (
                   ConvMaxPoolTrunk),
               pooling_class: Callable[[], tf.keras.layers.Layer] = (
                   SpatialSoftmax),
               augmentation_class: Optional[
                   Callable[[], tf.keras.layers.Layer]] = RandomShift,
               compute_dtype: str = 'float32',
               name: str = 'pixel_encoder'):
    """Builds the layers.

    Args:
      observation_spec: the observation nest's spec, one uint8 leaf.
      trunk_class: called with `compute_dtype=`; maps images [B, H, W, C']
        to feature maps [B, h, w, F].
      pooling_class: maps feature maps to vectors [B, F'] float32.
      augmentation_class: maps images to images, with `training=`; None
        trains on the images as they are.
      compute_dtype: of the trunk (see `layers.precision_policy`).
      name: of the layer.
    """
    super().__init__(name=name)
    self._image_index = image_leaf_index(observation_spec)
    image_spec = tf.nest.flatten(observation_spec)[self._image_index]
    *history, height, width, channels = image_spec.shape.as_list()
    self._image_shape = [height, width, channels * (history[0] if history
                                                    else 1)]
    self._has_history = bool(history)
    self._trunk = trunk_class(compute_dtype=compute_dtype)
    self._pooling = pooling_class()
    self._augmentation = (augmentation_class() if augmentation_class
                          else None)

  def call(self, observations: types.NestedTensor,
           training: bool = False) -> tf.Tensor:
    leaves = tf.nest.flatten(observations)
    images = leaves.pop(self._image_index)
    if self._has_history:  # [B, T, H, W, C] -> [B, H, W, T * C]
      images = tf.transpose(images, [0, 2, 3, 1, 4])
    images = tf.reshape(images, [-1] + self._image_shape)
    if self._augmentation is not None:
      images = self._augmentation(images, training=training)
    features = self._pooling(self._trunk(tf.cast(images, tf.float32) / 255.0))
    if not leaves:
      return features
    return tf.concat([features, layers.flatten_observation(leaves)], axis=-1)


class EncodedPixels:
  """Mixin: a dense network whose observations an image encoder embeds.

  List it first (`class PixelEBM(EncodedPixels, mlp_ebm.MLPEBM)`). The
  constructor takes the specs, the dense network's keyword arguments
  (`width`, `depth`, ..., `compute_dtype`; `name` defaults to the class's)
  and `encoder_class`, called as encoder_class(observation_spec,
  compute_dtype=compute_dtype): it maps observations to embeddings [B, E]
  and takes `training=` (augmentation runs only in training). `encode`
  returns that embedding, which the dense network consumes.
  """

  def __init__(self,
               observation_spec: types.NestedTensorSpec,
               action_spec: types.TensorSpec,
               *,
               encoder_class: Callable[..., tf.keras.layers.Layer] = (
                   PixelEncoder),
               **network_kwargs: Any):
    network_kwargs.setdefault('name', type(self).__name__)
    super().__init__(observation_spec, action_spec, **network_kwargs)
    self._encoder = encoder_class(
        observation_spec,
        compute_dtype=network_kwargs.get('compute_dtype', 'float32'))

  def encode(self, observations: types.NestedTensor,
             training: bool = False) -> tf.Tensor:
    """The image and low-dimensional leaves embedded: [B, E]."""
    return self._encoder(observations, training=training)
