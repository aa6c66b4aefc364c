import functools
import os
import pathlib
import subprocess
import sys
import textwrap

import gin
import numpy as np
import pytest
import tensorflow as tf
from tf_agents.policies import policy_saver
from tf_agents.policies import py_tf_eager_policy
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import time_step as ts

from ibc_agents import ibc_agent
from ibc_agents import ibc_policy
from ibc_agents import losses
from ibc_agents import samplers
from ibc_agents import testing
from ibc_agents.networks import ar_mlp_ebm
from ibc_agents.networks import layers
from ibc_agents.networks import mlp_ebm
from ibc_agents.networks import pixel_ebm

_ROOT = pathlib.Path(__file__).resolve().parents[3]

OBSERVATION_SPEC = {'a': tensor_spec.TensorSpec((2, 3), tf.float32),
                    'b': tensor_spec.TensorSpec((2, 1), tf.float32)}
ACTION_SPEC = tensor_spec.BoundedTensorSpec((4,), tf.float32, -1.0, 1.0)


def _observations(batch_size):
  return tensor_spec.sample_spec_nest(OBSERVATION_SPEC, outer_dims=(batch_size,))


def test_scores_one_value_per_candidate_action():
  network = mlp_ebm.MLPEBM(OBSERVATION_SPEC, ACTION_SPEC, width=16, depth=2)
  scores, state = network((_observations(3), tf.zeros([3, 7, 4])))
  assert scores.shape == (3, 7)
  assert state == ()


def test_single_actions_give_one_score_per_batch_row():
  network = mlp_ebm.MLPEBM(OBSERVATION_SPEC, ACTION_SPEC, width=16, depth=1)
  network.create_variables((OBSERVATION_SPEC, ACTION_SPEC))
  scores, _ = network((_observations(5), tf.zeros([5, 4])))
  assert scores.shape == (5,)


def test_candidate_scores_do_not_depend_on_the_other_candidates():
  tf.random.set_seed(0)
  network = mlp_ebm.MLPEBM(OBSERVATION_SPEC, ACTION_SPEC, width=16, depth=2)
  observations = _observations(2)
  actions = tf.random.uniform([2, 5, 4])
  scores, _ = network((observations, actions))
  reversed_scores, _ = network((observations, actions[:, ::-1]))
  np.testing.assert_allclose(scores.numpy(), reversed_scores.numpy()[:, ::-1],
                             rtol=1e-5, atol=1e-6)


def test_depth_adds_residual_blocks():
  shallow = mlp_ebm.MLPEBM(OBSERVATION_SPEC, ACTION_SPEC, width=8, depth=1)
  deep = mlp_ebm.MLPEBM(OBSERVATION_SPEC, ACTION_SPEC, width=8, depth=3)
  for network in (shallow, deep):
    network.create_variables((OBSERVATION_SPEC, ACTION_SPEC))
  assert len(deep.trainable_variables) - len(shallow.trainable_variables) == 8


def test_invalid_width_is_rejected():
  with pytest.raises(ValueError, match='width'):
    mlp_ebm.MLPEBM(OBSERVATION_SPEC, ACTION_SPEC, width=0)


def _spectral_norm_layers(network):
  return [layer for layer in network._flatten_layers()
          if isinstance(layer, layers.SpectralNormDense)]


def test_spectral_norm_option_normalises_the_dense_body_of_every_ebm():
  gin.clear_config()
  try:
    gin.parse_config(['MLPEBM.spectral_norm = True'])
    configured = mlp_ebm.MLPEBM(OBSERVATION_SPEC, ACTION_SPEC, width=8,
                                depth=2)
  finally:
    gin.clear_config()
  autoregressive = ar_mlp_ebm.ARMLPEBM(OBSERVATION_SPEC, ACTION_SPEC, width=8,
                                       depth=2, spectral_norm=True)
  pixel = pixel_ebm.PixelEBM(
      tensor_spec.add_outer_dims_nest(
          {'rgb': tensor_spec.TensorSpec((12, 16, 3), tf.uint8)}, (2,)),
      ACTION_SPEC, width=8, depth=2, spectral_norm=True)
  for network in (configured, autoregressive, pixel, configured.copy()):
    network.create_variables()
    assert len(_spectral_norm_layers(network)) == 5  # projection, 2 x 2
    assert not any(isinstance(layer, layers.SpectralNormDense)
                   for layer in network._score._flatten_layers())
  assert not _spectral_norm_layers(mlp_ebm.MLPEBM(
      OBSERVATION_SPEC, ACTION_SPEC, width=8, depth=2))


def _spectral_norm_agent():
  """An IBC-Langevin agent with a gradient penalty, untrained."""
  tf.keras.utils.set_random_seed(0)
  network = mlp_ebm.MLPEBM(testing.TIME_STEP_SPEC.observation,
                           testing.ACTION_SPEC, width=16, depth=1,
                           spectral_norm=True)
  agent = ibc_agent.ImplicitBCAgent(
      testing.TIME_STEP_SPEC, testing.ACTION_SPEC, network,
      tf.keras.optimizers.Adam(1e-2), num_counter_examples=8,
      counter_example_sampler=functools.partial(
          samplers.langevin_maximize, num_iterations=5),
      fraction_refined=0.5, gradient_penalty=losses.gradient_penalty,
      training_data_spec=testing.DATA_SPEC,
      train_step_counter=tf.Variable(0, dtype=tf.int64))
  return agent


def _trained_spectral_norm_agent():
  """`_spectral_norm_agent` trained for 3 steps."""
  agent = _spectral_norm_agent()
  for seed in range(3):
    assert np.isfinite(agent.train(testing.synthetic_experience(16, seed)).loss)
  return agent


def _normalized(vector: np.ndarray) -> np.ndarray:
  return vector / np.linalg.norm(vector)


def test_a_train_step_takes_one_power_iteration_step():
  # The chains, the loss and the gradient penalty all call the network;
  # u still takes one step per train step, from the step's kernel.
  agent = _spectral_norm_agent()
  dense = _spectral_norm_layers(agent.cloning_network)
  for _ in range(2):
    kernels = [layer.kernel.numpy() for layer in dense]
    before = [_normalized(layer.singular_vector.numpy()) for layer in dense]
    agent.train(testing.synthetic_experience(16))
    for layer, kernel, u in zip(dense, kernels, before):
      want = _normalized(kernel.T @ _normalized(kernel @ u))
      np.testing.assert_allclose(layer.singular_vector.numpy(), want,
                                 rtol=1e-5, atol=1e-6)


def _deterministic_chains(score_fn, actions, low, high):
  """Langevin chains without injected noise, so that two runs can agree."""
  return samplers.langevin_maximize(score_fn, actions, low, high,
                                    num_iterations=5, noise_scale=0.0)


def test_compiled_train_step_matches_the_eager_one_with_spectral_norm(
    monkeypatch):
  monkeypatch.setattr(
      samplers, 'uniform_actions',
      lambda batch_size, num_samples, low, high, draws=None: low + (
          high - low) * tf.linspace(0.05, 0.95, num_samples)[None, :, None]
      * tf.ones(tf.stack([batch_size, 1, tf.shape(low)[0]])))
  results = []
  for jit_compile in (False, True):
    tf.keras.utils.set_random_seed(0)
    network = mlp_ebm.MLPEBM(testing.TIME_STEP_SPEC.observation,
                             testing.ACTION_SPEC, width=16, depth=1,
                             spectral_norm=True)
    agent = ibc_agent.ImplicitBCAgent(
        testing.TIME_STEP_SPEC, testing.ACTION_SPEC, network,
        tf.keras.optimizers.SGD(1.0), num_counter_examples=8,
        counter_example_sampler=_deterministic_chains, fraction_refined=0.5,
        gradient_penalty=losses.gradient_penalty,
        training_data_spec=testing.DATA_SPEC, jit_compile=jit_compile,
        train_step_counter=tf.Variable(0, dtype=tf.int64))
    train = tf.function(agent.train) if jit_compile else agent.train
    loss = train(testing.synthetic_experience(16)).loss.numpy()
    results.append((loss, [v.numpy() for v in network.variables]))
  (eager_loss, eager_variables), (xla_loss, xla_variables) = results
  np.testing.assert_allclose(xla_loss, eager_loss, rtol=1e-4)
  assert len(eager_variables) == 11  # 3 layers: kernel, bias, u; a head
  for eager, xla in zip(eager_variables, xla_variables):
    np.testing.assert_allclose(xla, eager, rtol=1e-3, atol=1e-5)


def test_saved_policy_acts_with_the_trained_normalised_weights(tmp_path):
  agent = _trained_spectral_norm_agent()
  policy = ibc_policy.IbcPolicy(
      agent.time_step_spec, agent.action_spec, agent.policy_network,
      action_normalizer=agent.action_normalizer, num_action_samples=32,
      sampler=samplers.dfo_maximize)
  time_step = ts.restart(
      {'x': np.random.default_rng(1).uniform(
          -1, 1, (4, testing.HISTORY, 3)).astype(np.float32)}, batch_size=4)
  expected = policy.action(
      tf.nest.map_structure(tf.constant, time_step)).action.numpy()
  policy_saver.PolicySaver(policy, batch_size=None).save(str(tmp_path))
  loaded = py_tf_eager_policy.SavedModelPyTFEagerPolicy(
      str(tmp_path), load_specs_from_pbtxt=True, batch_time_steps=False)
  saved_u = {variable.name: variable.numpy() for variable in loaded.variables()
             if 'singular_vector' in variable.name}
  trained_u = {variable.name: variable.numpy()
               for variable in agent.policy_network.variables
               if 'singular_vector' in variable.name}
  assert len(saved_u) == 3 and saved_u.keys() == trained_u.keys()
  for name, value in trained_u.items():
    np.testing.assert_array_equal(saved_u[name], value)
  for _ in range(2):  # acting leaves the stored vectors as they are
    np.testing.assert_allclose(loaded.action(time_step).action, expected,
                               rtol=1e-6, atol=1e-6)


def test_mirrored_train_step_keeps_the_replicas_vectors_equal():
  script = textwrap.dedent('''
      import functools
      import numpy as np
      import tensorflow as tf
      cpu = tf.config.list_physical_devices('CPU')[0]
      tf.config.set_logical_device_configuration(
          cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
      from ibc_agents import ibc_agent, losses, samplers, testing
      from ibc_agents.networks import mlp_ebm
      strategy = tf.distribute.MirroredStrategy(['/cpu:0', '/cpu:1'])
      for jit_compile in (False, True):
        with strategy.scope():
          network = mlp_ebm.MLPEBM(testing.TIME_STEP_SPEC.observation,
                                   testing.ACTION_SPEC, width=16, depth=1,
                                   spectral_norm=True)
          agent = ibc_agent.ImplicitBCAgent(
              testing.TIME_STEP_SPEC, testing.ACTION_SPEC, network,
              tf.keras.optimizers.Adam(1e-2), num_counter_examples=8,
              counter_example_sampler=functools.partial(
                  samplers.langevin_maximize, num_iterations=3),
              fraction_refined=0.5, gradient_penalty=losses.gradient_penalty,
              training_data_spec=testing.DATA_SPEC, jit_compile=jit_compile,
              policy_averaging_decay=0.9,
              train_step_counter=tf.Variable(0, dtype=tf.int64))
        u = [v for v in network.variables if 'singular_vector' in v.name]
        initial = [v.numpy() for v in u]
        experience = testing.synthetic_experience(16)
        step = tf.function(lambda: strategy.reduce(
            tf.distribute.ReduceOp.MEAN,
            strategy.run(agent.train, (experience,)).loss, axis=None))
        losses_ = [float(step()) for _ in range(2)]
        assert all(np.isfinite(losses_)), losses_
        for variable, before in zip(u, initial):
          first, second = [r.numpy() for r in
                           strategy.experimental_local_results(variable)]
          np.testing.assert_allclose(first, second, rtol=1e-6, atol=1e-7)
          np.testing.assert_allclose(variable.numpy(), first, atol=1e-6)
          assert not np.allclose(first, before)
        print('trained', jit_compile, len(u))
  ''')
  done = subprocess.run(
      [sys.executable, '-c', script], capture_output=True, text=True,
      check=False, cwd=_ROOT, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'))
  assert done.returncode == 0, done.stderr[-3000:]
  assert 'trained False 3' in done.stdout and 'trained True 3' in done.stdout
