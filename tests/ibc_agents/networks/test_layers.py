"""Spectrally normalised dense layers (`layers.SpectralNormDense`)."""
import numpy as np
import pytest
import tensorflow as tf

from ibc_agents.networks import layers

WIDTH, DEPTH, FEATURES = 16, 2, 5


def _resnet(compute_dtype: str = 'float32') -> layers.ResNetPreActivationDense:
  """A built spectrally normalised ResNet; the same weights for one seed."""
  tf.keras.utils.set_random_seed(0)
  resnet = layers.ResNetPreActivationDense(
      WIDTH, DEPTH, compute_dtype=compute_dtype, spectral_norm=True)
  resnet(tf.zeros([1, FEATURES]))
  return resnet


def _dense_layers(resnet: layers.ResNetPreActivationDense
                  ) -> list[layers.SpectralNormDense]:
  found = [layer for layer in resnet._flatten_layers()
           if isinstance(layer, layers.SpectralNormDense)]
  assert len(found) == 2 * DEPTH + 1
  return found


def _largest_singular_value(matrix: np.ndarray) -> float:
  return float(np.linalg.svd(matrix, compute_uv=False)[0])


def _inputs(seed: int = 1) -> tf.Tensor:
  return tf.random.stateless_normal([6, 3, FEATURES], [seed, 0])  # [B, N, D]


def test_every_kernel_has_largest_singular_value_one_after_power_iterations():
  resnet = _resnet()
  for layer in _dense_layers(resnet):
    layer.kernel.assign(layer.kernel * 5.0)  # far from normalised
    assert _largest_singular_value(layer.kernel.numpy()) > 2.0

  @tf.function
  def power_iterations(num_steps):
    for _ in tf.range(num_steps):
      layers.advance_power_iterations(resnet)

  power_iterations(100)
  for layer in _dense_layers(resnet):
    sigma = _largest_singular_value(layer.normalized_kernel().numpy())
    assert 1.0 - 1e-3 <= sigma <= 1.0 + 1e-4, (layer.name, sigma)


def test_calls_read_u_and_only_a_power_iteration_step_changes_it():
  resnet = _resnet()
  inputs = _inputs()
  dense = _dense_layers(resnet)[0]
  initial = dense.singular_vector.numpy()
  layers.advance_power_iterations(resnet)
  stepped = dense.singular_vector.numpy()
  assert not np.allclose(stepped, initial)
  np.testing.assert_allclose(np.linalg.norm(stepped), 1.0, rtol=1e-6)
  # Training and inference calls read the stored u: the same kernels.
  outputs = resnet(inputs, training=True).numpy()
  for training in (True, False, False):
    np.testing.assert_array_equal(resnet(inputs, training=training), outputs)
  np.testing.assert_array_equal(dense.singular_vector.numpy(), stepped)
  assert not any(variable.trainable for variable in resnet.variables
                 if 'singular_vector' in variable.name)


def test_gradients_reach_every_kernel_through_the_normalisation():
  resnet = _resnet()
  inputs = _inputs()
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum(tf.square(resnet(inputs, training=True)))
  gradients = [gradient.numpy() for gradient in
               tape.gradient(loss, resnet.trainable_variables)]
  assert len(gradients) == 2 * (2 * DEPTH + 1)  # kernels and biases, no u
  for variable, gradient in zip(resnet.trainable_variables, gradients):
    assert np.all(np.isfinite(gradient)) and np.abs(gradient).max() > 0, (
        variable.name)
  # The normalised kernel does not change when the kernel is scaled, so a
  # gradient that sees the division by sigma is orthogonal to the kernel.
  by_variable = {variable.ref(): gradient for variable, gradient in
                 zip(resnet.trainable_variables, gradients)}
  for dense in _dense_layers(resnet):
    gradient = by_variable[dense.kernel.ref()]
    cosine = np.sum(gradient * dense.kernel.numpy()) / (
        np.linalg.norm(gradient) * np.linalg.norm(dense.kernel.numpy()))
    assert abs(cosine) < 1e-4, (dense.name, cosine)


@pytest.mark.bfloat16
def test_xla_and_bfloat16_match_float32_and_iterate_in_float32():
  inputs = _inputs()
  reference = _resnet()
  layers.advance_power_iterations(reference)
  expected = reference(inputs, training=True).numpy()
  expected_u = [layer.singular_vector.numpy()
                for layer in _dense_layers(reference)]
  for compute_dtype, rtol in (('float32', 1e-5), ('bfloat16', 0.05)):
    resnet = _resnet(compute_dtype)
    assert all(variable.dtype == tf.float32 for variable in resnet.variables)
    @tf.function(jit_compile=True)
    def train_call(x, resnet=resnet):
      layers.advance_power_iterations(resnet)
      return resnet(x, training=True)

    outputs = train_call(inputs)
    assert outputs.dtype == tf.float32
    np.testing.assert_allclose(outputs, expected, rtol=rtol,
                               atol=rtol * np.abs(expected).max())
    for layer, want in zip(_dense_layers(resnet), expected_u):
      np.testing.assert_allclose(layer.singular_vector.numpy(), want,
                                 rtol=1e-5, atol=1e-6)


def test_a_checkpoint_restores_the_power_iteration_vectors(tmp_path):
  resnet = _resnet()
  inputs = _inputs()
  for _ in range(3):
    layers.advance_power_iterations(resnet)
  path = tf.train.Checkpoint(resnet=resnet).save(str(tmp_path / 'ckpt'))
  restored = _resnet()
  saved_u = [layer.singular_vector.numpy() for layer in _dense_layers(resnet)]
  fresh_u = [layer.singular_vector.numpy()
             for layer in _dense_layers(restored)]
  assert not np.allclose(fresh_u[0], saved_u[0])
  tf.train.Checkpoint(resnet=restored).restore(path).assert_consumed()
  for layer, want in zip(_dense_layers(restored), saved_u):
    np.testing.assert_array_equal(layer.singular_vector.numpy(), want)
  np.testing.assert_array_equal(restored(inputs, training=False),
                                resnet(inputs, training=False))


def test_without_the_option_the_layers_and_variables_are_unchanged():
  tf.keras.utils.set_random_seed(0)
  resnet = layers.ResNetPreActivationDense(WIDTH, DEPTH)
  resnet(tf.zeros([1, FEATURES]))
  assert not any(isinstance(layer, layers.SpectralNormDense)
                 for layer in resnet._flatten_layers())
  assert len(resnet.variables) == len(resnet.trainable_variables)
