"""The compiled hot paths: train step, samplers, precision and retracing.

Compiled (tf.function, XLA) and eager train steps must agree on a fixed batch
with fixed counter-examples; the samplers must work as compiled functions; a
bfloat16 network must keep float32 variables and outputs; and after warm-up,
neither the Learner's train step nor the policies may trace again.
"""
import numpy as np
import pytest
import tensorflow as tf
from tf_agents.policies import py_tf_eager_policy
from tf_agents.train import learner as tf_agents_learner
from tf_agents.trajectories import time_step as ts

from ibc_agents import ibc_agent
from ibc_agents import ibc_policy
from ibc_agents import losses
from ibc_agents import mse_agent
from ibc_agents import samplers
from ibc_agents import testing
from ibc_agents.networks import layers
from ibc_agents.networks import mlp_ebm
from ibc_agents.networks import mlp_mse

NUM_COUNTER_EXAMPLES = 8
LANGEVIN_ITERATIONS = 10
# Graph rewrites (op fusion, XLA) reorder float32 sums: agreement to ~1e-6
# relative is expected; these bounds leave room for it and nothing more.
GRAPH_RTOL, GRAPH_ATOL = 1e-4, 1e-5
XLA_RTOL, XLA_ATOL = 1e-3, 1e-5
# bfloat16 keeps 8 significant bits (unit roundoff u = 2**-8 ~ 0.004), and
# each processor family rounds differently: oneDNN's kernels where CPUID
# reports AVX-512 (with or without BF16 instructions), Eigen's elsewhere. So
# the whole gradient is compared, not single elements. The InfoNCE gradient is
# made of the softmax's departures from the one-hot label, and at
# initialisation the candidates' energies differ by a few percent of their
# size: rounding each energy by u moves those departures by about 0.1
# relative (measured: 0.038 on oneDNN, 0.105 on Eigen; MSE, without that
# amplification, 0.003 and 0.009). The bounds leave at least 2.4x that; an
# initialisation from another seed, a gradient pointing elsewhere, is at
# 1.3 to 2.0 with a cosine below 0.1.
BFLOAT16_LOSS_RTOL = 0.05
BFLOAT16_GRADIENT_RTOL = {
    'ibc_uniform': 0.25, 'ibc_langevin_penalty': 0.25, 'mse': 0.025}
BFLOAT16_GRADIENT_COSINE = 0.97


def _deterministic_langevin(score_fn, actions, low, high):
  """Langevin refinement without injected noise, so that runs can agree."""
  chains = samplers.langevin_actions(
      score_fn, actions, low, high, num_iterations=LANGEVIN_ITERATIONS,
      noise_scale=0.0)
  return None, chains, score_fn(chains)


AGENT_KWARGS = {
    'ibc_uniform': dict(num_counter_examples=NUM_COUNTER_EXAMPLES),
    'ibc_langevin_penalty': dict(
        num_counter_examples=NUM_COUNTER_EXAMPLES,
        counter_example_sampler=_deterministic_langevin,
        gradient_penalty=losses.gradient_penalty),
    'mse': {},
}


def _agent(kind, jit_compile=False, compute_dtype='float32',
           network_class=None):
  """An agent of `kind` (AGENT_KWARGS); the same initial weights every time."""
  tf.keras.utils.set_random_seed(0)
  if kind == 'mse':
    network = (network_class or mlp_mse.MLPMSE)(
        testing.TIME_STEP_SPEC.observation, testing.ACTION_SPEC, width=16,
        depth=2, compute_dtype=compute_dtype)
    agent_class = mse_agent.MseBCAgent
  else:
    network = (network_class or mlp_ebm.MLPEBM)(
        testing.TIME_STEP_SPEC.observation, testing.ACTION_SPEC, width=16,
        depth=2, compute_dtype=compute_dtype)
    agent_class = ibc_agent.ImplicitBCAgent
  # SGD with rate 1: the variables move by exactly minus the gradient.
  return agent_class(
      testing.TIME_STEP_SPEC, testing.ACTION_SPEC, network,
      tf.keras.optimizers.SGD(1.0), training_data_spec=testing.DATA_SPEC,
      train_step_counter=tf.Variable(0, dtype=tf.int64),
      jit_compile=jit_compile, **AGENT_KWARGS[kind])


@pytest.fixture
def fixed_counter_examples(monkeypatch):
  """Replaces the uniform draw of counter-examples by a fixed one."""
  def fixed_uniform_actions(batch_size, num_samples, low, high, draws=None):
    del draws
    grid = tf.linspace(0.05, 0.95, num_samples)[None, :, None] * tf.ones(
        tf.stack([batch_size, 1, tf.shape(low)[0]]))
    return low + grid * (high - low)

  monkeypatch.setattr(samplers, 'uniform_actions', fixed_uniform_actions)


def _loss_and_gradients(agent, train_fn):
  """The loss of one train step and the gradients it applied (SGD, rate 1)."""
  before = [variable.numpy() for variable in agent.cloning_network.variables]
  loss = train_fn(testing.synthetic_experience(batch_size=16)).loss.numpy()
  gradients = [old - variable.numpy() for old, variable in
               zip(before, agent.cloning_network.variables)]
  return loss, gradients


def _assert_close(expected, actual, rtol, atol):
  (expected_loss, expected_gradients), (loss, gradients) = expected, actual
  np.testing.assert_allclose(loss, expected_loss, rtol=rtol, atol=atol)
  for expected_gradient, gradient in zip(expected_gradients, gradients):
    np.testing.assert_allclose(gradient, expected_gradient, rtol=rtol,
                               atol=atol)


@pytest.mark.parametrize('kind', sorted(AGENT_KWARGS))
@pytest.mark.usefixtures('fixed_counter_examples')
def test_compiled_train_steps_match_the_eager_one(kind):
  eager_agent = _agent(kind)
  eager = _loss_and_gradients(eager_agent, eager_agent.train)
  assert np.isfinite(eager[0]) and any(
      np.abs(gradient).max() > 0 for gradient in eager[1])
  graph_agent = _agent(kind)
  _assert_close(eager, _loss_and_gradients(
      graph_agent, tf.function(graph_agent.train)), GRAPH_RTOL, GRAPH_ATOL)
  xla_agent = _agent(kind, jit_compile=True)
  _assert_close(eager, _loss_and_gradients(
      xla_agent, tf.function(xla_agent.train)), XLA_RTOL, XLA_ATOL)


def _flat(gradients):
  return np.concatenate([np.ravel(gradient) for gradient in gradients])


@pytest.mark.bfloat16
@pytest.mark.parametrize('kind', sorted(AGENT_KWARGS))
@pytest.mark.usefixtures('fixed_counter_examples')
def test_bfloat16_train_step_is_close_to_the_float32_one(kind):
  float32_agent = _agent(kind)
  expected_loss, expected = _loss_and_gradients(float32_agent,
                                                float32_agent.train)
  bfloat16_agent = _agent(kind, compute_dtype='bfloat16')
  loss, gradients = _loss_and_gradients(bfloat16_agent,
                                        tf.function(bfloat16_agent.train))
  assert all(gradient.dtype == np.float32 for gradient in gradients)
  np.testing.assert_allclose(loss, expected_loss, rtol=BFLOAT16_LOSS_RTOL)
  expected, actual = _flat(expected), _flat(gradients)
  relative_error = (np.linalg.norm(actual - expected) /
                    np.linalg.norm(expected))
  cosine = actual @ expected / (np.linalg.norm(actual) *
                                np.linalg.norm(expected))
  assert relative_error < BFLOAT16_GRADIENT_RTOL[kind], relative_error
  assert cosine > BFLOAT16_GRADIENT_COSINE, cosine


@pytest.mark.bfloat16
def test_bfloat16_network_keeps_float32_variables_and_outputs():
  float32_network = mlp_ebm.MLPEBM(testing.TIME_STEP_SPEC.observation,
                                   testing.ACTION_SPEC, width=32, depth=3)
  bfloat16_network = mlp_ebm.MLPEBM(testing.TIME_STEP_SPEC.observation,
                                    testing.ACTION_SPEC, width=32, depth=3,
                                    compute_dtype='bfloat16')
  for network in (float32_network, bfloat16_network):
    network.create_variables(
        (testing.TIME_STEP_SPEC.observation, testing.ACTION_SPEC))
  bfloat16_network.set_weights(float32_network.get_weights())
  assert all(variable.dtype == tf.float32
             for variable in bfloat16_network.variables)
  observation = {'x': tf.random.uniform([4, testing.HISTORY, 3], -1.0, 1.0)}
  actions = tf.random.uniform([4, 16, 2], -1.0, 1.0)
  expected, _ = float32_network((observation, actions))
  scores, _ = bfloat16_network((observation, actions))
  assert scores.dtype == tf.float32
  np.testing.assert_allclose(scores, expected, rtol=0.05,
                             atol=0.02 * np.abs(expected).max())


def _plain_resnet(variables, inputs):
  """ResNetPreActivationDense written with plain ops on its variables [K, b, ...]."""
  x = inputs @ variables[0] + variables[1]
  for index in range(2, len(variables), 4):
    y = tf.nn.relu(x) @ variables[index] + variables[index + 1]
    x += tf.nn.relu(y) @ variables[index + 2] + variables[index + 3]
  return tf.nn.relu(x)


def _value_input_gradient_and_second_order(resnet, variables, inputs):
  """Sum of outputs, its input gradient, and d(value + |gradient|^2)/dvariables."""
  with tf.GradientTape() as outer:
    with tf.GradientTape() as inner:
      inner.watch(inputs)
      value = tf.reduce_sum(resnet(inputs) ** 2)
    input_gradient = inner.gradient(value, inputs)
    loss = value + tf.reduce_sum(input_gradient ** 2)
  return value, input_gradient, outer.gradient(loss, variables)


def test_resnet_gradients_match_plain_ops_to_second_order():
  tf.random.set_seed(0)
  resnet = layers.ResNetPreActivationDense(8, 2)
  inputs = tf.random.normal([2, 5, 3])
  resnet(inputs)
  variables = resnet.trainable_variables
  assert [v.name.split('/')[-2:] for v in variables[:4]] == [
      ['projection', 'kernel:0'], ['projection', 'bias:0'],
      ['block0_dense0', 'kernel:0'], ['block0_dense0', 'bias:0']]
  expected = _value_input_gradient_and_second_order(
      lambda x: _plain_resnet(variables, x), variables, inputs)
  for run in (lambda f: f, tf.function):
    actual = run(_value_input_gradient_and_second_order)(
        resnet, variables, inputs)
    for want, got in zip(tf.nest.flatten(expected), tf.nest.flatten(actual)):
      np.testing.assert_allclose(got, want, rtol=GRAPH_RTOL, atol=GRAPH_ATOL)


def test_resnet_accepts_features_of_a_size_unknown_when_traced():
  resnet = layers.ResNetPreActivationDense(8, 1)
  resnet(tf.zeros([2, 3, 5]))
  call = tf.function(resnet, input_signature=[tf.TensorSpec([None, 4, None])])
  assert call(tf.ones([2, 4, 5])).shape == (2, 4, 8)


def test_unknown_compute_dtype_is_rejected_with_the_allowed_ones():
  with pytest.raises(ValueError, match="'float32', 'bfloat16'"):
    layers.ResNetPreActivationDense(8, 1, compute_dtype='float16')


def _peaked_score(target):
  """Score -|a - target|^2 of actions [B, N, A], best at target [B, A]."""
  return lambda actions: -tf.reduce_sum(
      tf.square(actions - target[:, None, :]), axis=-1)


SAMPLERS = {
    'dfo': lambda score_fn, actions, low, high: samplers.dfo_maximize(
        score_fn, actions, low, high, num_iterations=3),
    'langevin': lambda score_fn, actions, low, high: samplers.langevin_maximize(
        score_fn, actions, low, high),
}


@pytest.mark.parametrize('jit_compile', [False, True])
@pytest.mark.parametrize('sampler', sorted(SAMPLERS))
def test_compiled_samplers_find_the_maximum_and_stay_in_bounds(sampler,
                                                               jit_compile):
  tf.random.set_seed(0)
  low, high = tf.constant([-1.0, -0.5]), tf.constant([1.0, 0.5])
  target = tf.constant([[0.3, -0.2], [-0.6, 0.4], [0.9, 0.1]])

  @tf.function(jit_compile=jit_compile)
  def maximize(initial):
    return SAMPLERS[sampler](_peaked_score(target), initial, low, high)

  best, population, _ = maximize(samplers.uniform_actions(3, 512, low, high))
  np.testing.assert_allclose(best, target, atol=0.05)
  assert np.all(population >= low.numpy()) and np.all(
      population <= high.numpy())


class _TraceCountingEBM(mlp_ebm.MLPEBM):
  """MLPEBM counting how often its Python `call` runs: only while tracing."""

  python_calls = 0  # per instance from its first call

  def call(self, inputs, **kwargs):
    self.python_calls += 1
    return super().call(inputs, **kwargs)


def _experience_dataset(batch_size):
  """Endless windows batches, as `Learner(use_reverb_v2=False)` reads them."""
  experience = testing.synthetic_experience(batch_size=batch_size)
  return tf.data.Dataset.from_tensors((experience, ())).repeat()


def test_learner_train_step_does_not_retrace(tmp_path):
  agent = _agent('ibc_langevin_penalty', network_class=_TraceCountingEBM)
  learner = tf_agents_learner.Learner(
      str(tmp_path), agent.train_step_counter, agent,
      experience_dataset_fn=lambda: _experience_dataset(16),
      checkpoint_interval=0, summary_interval=0)
  learner.run(iterations=1)
  traced = agent.cloning_network.python_calls
  for _ in range(3):
    learner.run(iterations=2)
  assert agent.cloning_network.python_calls == traced
  assert int(agent.train_step_counter.numpy()) == 7


def test_langevin_chains_are_one_loop_in_the_train_graph():
  agent = _agent('ibc_langevin_penalty', network_class=_TraceCountingEBM)
  calls_before = agent.cloning_network.python_calls
  graph = tf.function(agent.train).get_concrete_function(
      testing.synthetic_experience(batch_size=16)).graph
  op_types = {op.type for op in graph.get_operations()}
  assert op_types & {'While', 'StatelessWhile'}
  # The chain step is traced once, not once per Langevin iteration.
  assert agent.cloning_network.python_calls - calls_before < LANGEVIN_ITERATIONS


@pytest.mark.parametrize('sampler', [samplers.dfo_maximize,
                                     samplers.langevin_maximize,
                                     samplers.dfo_then_langevin])
def test_policy_actions_do_not_retrace(sampler):
  agent = _agent('ibc_uniform', network_class=_TraceCountingEBM)
  policy = ibc_policy.IbcPolicy(
      agent.time_step_spec, agent.action_spec, agent.cloning_network,
      action_normalizer=agent.action_normalizer, num_action_samples=64,
      sampler=sampler)
  eager_policy = py_tf_eager_policy.PyTFEagerPolicy(
      policy, use_tf_function=True, batch_time_steps=False)

  rng = np.random.default_rng(0)

  def time_step():
    return ts.transition(
        {'x': rng.uniform(-1.0, 1.0, [1, testing.HISTORY, 3]).astype(
            np.float32)}, reward=np.zeros([1], np.float32))

  eager_policy.action(time_step())
  traced = agent.cloning_network.python_calls
  for _ in range(5):
    action = eager_policy.action(time_step()).action
    assert action.shape == (1, 2)
  assert agent.cloning_network.python_calls == traced


def test_train_as_a_tf_function_does_not_retrace_after_its_first_call():
  agent = _agent('ibc_uniform')
  train = tf.function(agent.train)
  train(testing.synthetic_experience(batch_size=16))
  # The first call traces twice: once more after creating the optimizer's
  # variables.
  traces = train.experimental_get_tracing_count()
  for seed in range(1, 4):
    train(testing.synthetic_experience(batch_size=16, seed=seed))
  assert train.experimental_get_tracing_count() == traces
