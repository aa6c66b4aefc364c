"""Autoregressive IBC: per-dimension InfoNCE and action search by dimension."""
import gin
import numpy as np
import pytest
import tensorflow as tf
from tf_agents.policies import policy_saver
from tf_agents.policies import py_tf_eager_policy
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import time_step as ts

from ibc_agents import ibc_agent
from ibc_agents import testing
from ibc_agents.networks import ar_mlp_ebm

HISTORY = testing.HISTORY
OBSERVATION_SPEC = testing.OBSERVATION_SPEC
TIME_STEP_SPEC = testing.TIME_STEP_SPEC


def _specs(action_size):
  action_spec = tensor_spec.BoundedTensorSpec((action_size,), tf.float32,
                                              -1.0, 1.0)
  return action_spec, testing.DATA_SPEC._replace(action=action_spec)


def _discontinuous_target(x, action_size):
  """Actions [B, A]: +-0.6 by the sign of x0, alternating sign per dimension."""
  signs = np.where(np.arange(action_size) % 2 == 0, 1.0, -1.0)
  return (0.6 * np.sign(x[:, :1]) * signs).astype(np.float32)


def _windows(batch_size, action_size, rng):
  x = rng.uniform(-1, 1, (batch_size, HISTORY, 3)).astype(np.float32)
  action = _discontinuous_target(x[:, -1], action_size)
  return testing.windows(
      x, np.repeat(action[:, None], HISTORY, axis=1))


def _agent(action_size, **kwargs):
  action_spec, data_spec = _specs(action_size)
  network = ar_mlp_ebm.ARMLPEBM(TIME_STEP_SPEC.observation, action_spec,
                                width=64, depth=1)
  return ibc_agent.AutoregressiveImplicitBCAgent(
      TIME_STEP_SPEC, action_spec, network, tf.keras.optimizers.Adam(3e-3),
      training_data_spec=data_spec,
      train_step_counter=tf.Variable(0, dtype=tf.int64), **kwargs)


@pytest.fixture
def autoregressive_sampler():
  """The policy searches with `autoregressive_dfo`, bound the gin way."""
  gin.parse_config(['import ibc_agents.ibc_policy',
                    'import ibc_agents.samplers',
                    'IbcPolicy.sampler = @autoregressive_dfo',
                    'IbcPolicy.num_action_samples = 128'])
  yield
  gin.clear_config()


def test_initial_loss_is_near_log_of_candidate_count():
  tf.random.set_seed(0)
  agent = _agent(3, num_counter_examples=15)
  loss = agent.loss(_windows(64, 3, np.random.default_rng(0))).loss
  np.testing.assert_allclose(loss, np.log(16.0), rtol=0.1)


@pytest.mark.usefixtures('autoregressive_sampler')
@pytest.mark.parametrize('action_size', [1, 4])
def test_clones_a_discontinuous_target_in_one_to_four_dimensions(action_size):
  tf.random.set_seed(action_size)
  rng = np.random.default_rng(action_size)
  agent = _agent(action_size, num_counter_examples=32)
  train = tf.function(agent.train)
  for _ in range(300):
    loss = train(_windows(64, action_size, rng)).loss
  assert loss < 1.0  # chance: log 33 = 3.5
  x = rng.uniform(-1, 1, (200, HISTORY, 3)).astype(np.float32)
  x = x[np.abs(x[:, -1, 0]) > 0.1]  # away from the jump
  time_step = ts.restart({'x': tf.constant(x)}, batch_size=len(x))
  action = agent.policy.action(time_step).action.numpy()
  error = np.abs(action - _discontinuous_target(x[:, -1], action_size))
  assert np.median(error) < 0.05 and np.mean(error < 0.2) > 0.95


@pytest.mark.usefixtures('autoregressive_sampler')
def test_exported_policy_runs_in_plain_tf_agents(tmp_path):
  tf.random.set_seed(0)
  agent = _agent(3, num_counter_examples=8)
  agent.train(_windows(16, 3, np.random.default_rng(0)))
  policy_saver.PolicySaver(agent.policy, batch_size=None).save(str(tmp_path))
  loaded = py_tf_eager_policy.SavedModelPyTFEagerPolicy(
      str(tmp_path), load_specs_from_pbtxt=True)
  observation = {'x': np.zeros((HISTORY, 3), np.float32)}
  action = loaded.action(ts.restart(observation)).action
  assert action.shape == (3,) and np.all(np.abs(action) <= 1.0)
