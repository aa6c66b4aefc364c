"""Layers and helpers shared by the dense networks."""
from typing import Callable, List, Tuple

import tensorflow as tf
from tf_agents.typing import types


def flatten_observation(observation: types.NestedTensor) -> tf.Tensor:
  """Concatenates every observation leaf [B, ...] into one vector [B, D]."""
  leaves = [tf.reshape(tf.cast(leaf, tf.float32), [tf.shape(leaf)[0], -1])
            for leaf in tf.nest.flatten(observation)]
  return tf.concat(leaves, axis=-1)


COMPUTE_DTYPES: Tuple[str, ...] = ('float32', 'bfloat16')


def precision_policy(compute_dtype: str) -> tf.keras.mixed_precision.Policy:
  """Keras policy: float32 variables, products and activations in `compute_dtype`.

  Raises:
    ValueError: If `compute_dtype` is none of `COMPUTE_DTYPES`.
  """
  if compute_dtype not in COMPUTE_DTYPES:
    raise ValueError(f'compute_dtype must be one of {COMPUTE_DTYPES}, got '
                     f'{compute_dtype!r}.')
  return tf.keras.mixed_precision.Policy(
      'float32' if compute_dtype == 'float32' else f'mixed_{compute_dtype}')


def action_size(action_spec: types.NestedTensorSpec) -> int:
  """A of a single rank-1 action spec [A]; the only actions the heads emit."""
  flat_action_spec = tf.nest.flatten(action_spec)
  if len(flat_action_spec) != 1 or flat_action_spec[0].shape.rank != 1:
    raise ValueError(
        f'Explicit action heads need a single rank-1 action, got '
        f'{action_spec}.')
  return int(flat_action_spec[0].shape[0])


@tf.custom_gradient
def _affine(inputs: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor):
  """inputs [R, D] x kernel [D, W] + bias [W] -> [R, W].

  The bias gradient is a product with a row of ones, which oneDNN computes
  about twice as fast as TensorFlow's BiasAddGrad reduction in float32 and
  five times as fast in bfloat16 (131584 x 128 rows on a 2-core AMD EPYC).
  The gradients are made of differentiable ops, so the gradient penalty can
  differentiate them again.
  """
  outputs = tf.nn.bias_add(tf.matmul(inputs, kernel), bias)

  def gradients(upstream: tf.Tensor):  # [R, W]
    ones = tf.ones([1, tf.shape(upstream)[0]], upstream.dtype)
    return (tf.matmul(upstream, kernel, transpose_b=True),
            tf.matmul(inputs, upstream, transpose_a=True),
            tf.matmul(ones, upstream)[0])

  return outputs, gradients


class _Dense(tf.keras.layers.Dense):
  """Keras `Dense` without activation on rows [R, D], through `_affine`."""

  def call(self, inputs: tf.Tensor) -> tf.Tensor:
    return _affine(inputs, tf.convert_to_tensor(self.kernel),
                   tf.convert_to_tensor(self.bias))


class SpectralNormDense(tf.keras.layers.Layer):
  """Dense layer on rows [R, D] whose kernel is divided by its spectral norm.

  Spectral normalisation (Miyato et al. 2018) keeps the kernel's largest
  singular value at 1, which bounds how steep the layer can make the energy.
  The largest singular value is estimated by power iteration on a vector u
  [W], a non-trainable variable (checkpointed and exported with the kernel).
  `power_iteration_step` advances u by one step; the agents take one per
  train step, before its loss (`advance_power_iterations`), so that every
  call of that step (Langevin counter-example chains, loss, gradient
  penalty) uses one fixed normalised kernel. Calls only read u, so a policy
  acts deterministically with the kernel its training left. The kernel
  K [D, W] is divided by sigma = |K u| (u normalised), which the gradients
  see, with u held constant.

  The power iteration runs in float32 on the float32 variables; with a
  bfloat16 policy only the product runs in bfloat16. Under a
  `tf.distribute` strategy each replica keeps its own u (ON_READ, averaged
  when read across replicas): the replicas compute the same kernel, so
  their u agree.
  """

  def __init__(self, units: int, dtype: tf.keras.mixed_precision.Policy,
               name: str):
    super().__init__(name=name, dtype=dtype)
    self._units = units

  def build(self, input_shape: tf.TensorShape) -> None:
    num_features = int(input_shape[-1])
    self.kernel = self.add_weight(
        'kernel', [num_features, self._units], tf.float32,
        initializer='glorot_uniform', experimental_autocast=False)
    self.bias = self.add_weight('bias', [self._units], tf.float32,
                                initializer='zeros',
                                experimental_autocast=False)
    self.singular_vector = self.add_weight(
        'singular_vector', [self._units], tf.float32,
        initializer=tf.keras.initializers.RandomNormal(), trainable=False,
        synchronization=tf.VariableSynchronization.ON_READ,
        aggregation=tf.VariableAggregation.MEAN, experimental_autocast=False)
    super().build(input_shape)

  def power_iteration_step(self) -> None:
    """Stores u <- K^T v / |K^T v|, v = K u / |K u|: one step towards sigma."""
    kernel = tf.convert_to_tensor(self.kernel)  # [D, W]
    u = tf.math.l2_normalize(tf.convert_to_tensor(self.singular_vector))
    v = tf.math.l2_normalize(tf.linalg.matvec(kernel, u))  # [D]
    self.singular_vector.assign(tf.math.l2_normalize(
        tf.linalg.matvec(kernel, v, transpose_a=True)))  # [W]

  def normalized_kernel(self) -> tf.Tensor:
    """The kernel over its estimated largest singular value: [D, W] float32."""
    kernel = tf.convert_to_tensor(self.kernel)  # [D, W]
    u = tf.math.l2_normalize(tf.convert_to_tensor(self.singular_vector))
    sigma = tf.norm(tf.linalg.matvec(kernel, u))
    return kernel / sigma

  def call(self, inputs: tf.Tensor) -> tf.Tensor:
    """[R, D] -> [R, W] in the compute dtype."""
    return _affine(
        inputs, tf.cast(self.normalized_kernel(), self.compute_dtype),
        tf.cast(self.bias, self.compute_dtype))


def advance_power_iterations(module: tf.Module) -> None:
  """One `power_iteration_step` for every `SpectralNormDense` in `module`."""
  for layer in module.submodules:
    if isinstance(layer, SpectralNormDense):
      layer.power_iteration_step()


class ResNetPreActivationDense(tf.keras.layers.Layer):
  """Dense pre-activation residual stack: project to `width`, then `depth` blocks.

  Each block computes x + Dense(act(Dense(act(x)))) (He et al. 2016, identity
  mappings), the network the IBC paper uses for its state-based EBMs. `depth`
  counts blocks, so the stack holds 2 * depth + 1 dense layers (the reference
  implementation's "depth" counts dense layers).

  With `compute_dtype='bfloat16'` the products and activations run in
  bfloat16 on float32 variables (Keras mixed precision: the inputs and the
  kernels are cast on use); the output is cast back to float32 either way, so
  heads and losses stay in float32.

  With `spectral_norm` every dense layer is a `SpectralNormDense`; its power
  iteration advances only through `advance_power_iterations`.
  """

  def __init__(self, width: int, depth: int, activation: str = 'relu',
               dropout_rate: float = 0.0, compute_dtype: str = 'float32',
               spectral_norm: bool = False, name: str = 'resnet_dense'):
    policy = precision_policy(compute_dtype)
    super().__init__(name=name, dtype=policy)
    if width <= 0 or depth < 0:
      raise ValueError(f'width must be positive and depth non-negative, got '
                       f'width={width}, depth={depth}.')
    self._width = width
    self._activation: Callable[[tf.Tensor], tf.Tensor] = (
        tf.keras.activations.get(activation))

    def dense(name: str) -> tf.keras.layers.Layer:
      if spectral_norm:
        return SpectralNormDense(width, dtype=policy, name=name)
      return _Dense(width, name=name, dtype=policy)

    self._projection = dense('projection')
    self._blocks: List[List[tf.keras.layers.Layer]] = [
        [dense(f'block{i}_dense0'), dense(f'block{i}_dense1')]
        for i in range(depth)]
    self._dropout = tf.keras.layers.Dropout(dropout_rate, dtype=policy)

  def call(self, inputs: tf.Tensor, training: bool = False) -> tf.Tensor:
    """[..., D] -> [..., width] float32."""
    num_features = inputs.shape[-1] or tf.shape(inputs)[-1]  # static if known
    x = self._projection(tf.reshape(inputs, [-1, num_features]))  # [R, W]
    activated = self._activation(x)
    for dense0, dense1 in self._blocks:
      y = dense0(self._dropout(activated, training=training))
      y = dense1(self._dropout(self._activation(y), training=training))
      # The next block's input act(x + y) takes its own sum (AddN) beside the
      # residual stream's: when one sum feeds both, TensorFlow 2.15's oneDNN
      # graph rewrite fails on it ("remapper failed") and then fuses no
      # matmul with its bias and activation anywhere in the graph.
      activated = self._activation(tf.add_n([x, y]))
      x = x + y
    outputs = tf.cast(activated, tf.float32)  # [R, W]
    return tf.reshape(outputs, tf.concat(
        [tf.shape(inputs)[:-1], [self._width]], axis=0))
