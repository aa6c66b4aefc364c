"""The paper's project-page examples on tiny synthetic data (learning tests).

A step function (discontinuous) and a two-valued function (multi-modal):
IBC's chosen actions sit on the demonstrated values, MSE regression averages
across them.
"""
import numpy as np
import pytest
import tensorflow as tf
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import time_step as ts
from tf_agents.trajectories import trajectory
from tf_agents.utils import common

from ibc_agents import ibc_agent
from ibc_agents import mse_agent
from ibc_agents.networks import mlp_ebm
from ibc_agents.networks import mlp_mse

OBSERVATION_SPEC = {'x': tensor_spec.TensorSpec((1,), tf.float32)}
ACTION_SPEC = tensor_spec.BoundedTensorSpec((1,), tf.float32, -1.0, 1.0)
TIME_STEP_SPEC = ts.time_step_spec(OBSERVATION_SPEC)
BATCH_SIZE = 256
QUERIES = np.array([[-0.6], [-0.05], [0.0], [0.05], [0.6]], np.float32)


def _step_function(x, rng):
  del rng
  return np.where(x > 0.0, 0.5, -0.5)


def _two_valued_function(x, rng):
  return x * rng.choice([-1.0, 1.0], size=x.shape)


def _experience(target_fn, rng):
  """A batch of single-step windows [B, 1, ...] with x uniform in [-1, 1]."""
  x = rng.uniform(-1.0, 1.0, (BATCH_SIZE, 1, 1)).astype(np.float32)
  return trajectory.Trajectory(
      step_type=tf.ones([BATCH_SIZE, 1], tf.int32),
      observation={'x': tf.constant(x)},
      action=tf.constant(target_fn(x, rng).astype(np.float32)),
      policy_info=(),
      next_step_type=tf.ones([BATCH_SIZE, 1], tf.int32),
      reward=tf.zeros([BATCH_SIZE, 1]),
      discount=tf.ones([BATCH_SIZE, 1]))


def _train(agent, target_fn, num_steps, seed):
  rng = np.random.default_rng(seed)
  train = common.function(agent.train)
  for _ in range(num_steps):
    train(_experience(target_fn, rng))
  return agent


def _ibc(target_fn, seed=0):
  tf.random.set_seed(seed)
  network = mlp_ebm.MLPEBM(OBSERVATION_SPEC, ACTION_SPEC, width=64, depth=2)
  agent = ibc_agent.ImplicitBCAgent(
      TIME_STEP_SPEC, ACTION_SPEC, network, tf.keras.optimizers.Adam(1e-3),
      num_counter_examples=64,
      train_step_counter=tf.Variable(0, dtype=tf.int64))
  return _train(agent, target_fn, 1500, seed)


def _mse(target_fn, seed=0):
  tf.random.set_seed(seed)
  network = mlp_mse.MLPMSE(OBSERVATION_SPEC, ACTION_SPEC, width=64, depth=2)
  agent = mse_agent.MseBCAgent(
      TIME_STEP_SPEC, ACTION_SPEC, network, tf.keras.optimizers.Adam(1e-3),
      train_step_counter=tf.Variable(0, dtype=tf.int64))
  return _train(agent, target_fn, 1500, seed)


def _act(agent, x):
  time_step = ts.restart({'x': tf.constant(x)}, batch_size=len(x))
  return agent.policy.action(time_step).action.numpy()[:, 0]


@pytest.fixture(scope='module')
def step_agents():
  return _ibc(_step_function), _mse(_step_function)


@pytest.fixture(scope='module')
def two_valued_agents():
  return _ibc(_two_valued_function), _mse(_two_valued_function)


def test_ibc_stays_on_one_side_of_a_step_that_mse_smooths(step_agents):
  ibc, mse = step_agents
  tf.random.set_seed(1)
  ibc_actions = _act(ibc, QUERIES)
  np.testing.assert_allclose(ibc_actions[[0, 4]], [-0.5, 0.5], atol=0.1)
  assert (np.abs(ibc_actions) > 0.35).all(), ibc_actions  # x = 0 included
  np.testing.assert_allclose(np.sign(ibc_actions[[1, 3]]), [-1.0, 1.0])
  mse_actions = _act(mse, QUERIES)
  np.testing.assert_allclose(mse_actions[[0, 4]], [-0.5, 0.5], atol=0.1)
  assert abs(mse_actions[2]) < 0.3, mse_actions  # in between at the step


def test_ibc_picks_a_branch_of_a_two_valued_function_mse_averages(
    two_valued_agents):
  ibc, mse = two_valued_agents
  tf.random.set_seed(2)
  far = QUERIES[[0, 4]]  # x = -0.6 and 0.6: branches at +-0.6
  ibc_actions = _act(ibc, far)
  np.testing.assert_allclose(np.abs(ibc_actions), [0.6, 0.6], atol=0.12)
  mse_actions = _act(mse, far)
  assert (np.abs(mse_actions) < 0.2).all(), mse_actions


def test_ibc_energy_has_both_branches_as_modes(two_valued_agents):
  ibc, _ = two_valued_agents
  observation = {'x': tf.constant([[0.6]])}
  candidates = tf.constant([[[-0.6], [0.0], [0.6]]])
  scores = ibc.cloning_network((observation, candidates))[0].numpy()[0]
  assert scores[0] > scores[1] + 1.0 and scores[2] > scores[1] + 1.0, scores
