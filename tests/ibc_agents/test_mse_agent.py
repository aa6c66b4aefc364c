import numpy as np
import pytest
import tensorflow as tf
from tf_agents.environments import wrappers
from tf_agents.networks import network
from tf_agents.policies import policy_saver
from tf_agents.policies import py_tf_eager_policy
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import time_step as ts
from tf_agents.utils import nest_utils

import environments
from ibc_agents import testing
from ibc_agents import mse_agent
from ibc_agents import normalization
from ibc_agents.networks import mlp_mse

HISTORY = testing.HISTORY
OBSERVATION_SPEC = testing.OBSERVATION_SPEC
ACTION_SPEC = testing.ACTION_SPEC
DATA_SPEC = testing.DATA_SPEC
TIME_STEP_SPEC = testing.TIME_STEP_SPEC
# Demonstrated actions in [-0.5, 0.5]: normalised action = 2 * action.
HALF_RANGE = dict(action_min=[-0.5, -0.5], action_max=[0.5, 0.5],
                  boundary_buffer=0.0)


class _FirstStepNetwork(network.Network):
  """Hand-made regressor: the first two features of the oldest history step."""

  def __init__(self, observation_spec):
    super().__init__(observation_spec, state_spec=(), name='FirstStep')
    self._unused = tf.Variable(0.0)

  def call(self, observations, step_type=None, network_state=(),
           training=False):
    return observations['x'][:, 0, :2], network_state


def _agent(cloning_network=None, **kwargs):
  cloning_network = cloning_network or mlp_mse.MLPMSE(
      TIME_STEP_SPEC.observation, ACTION_SPEC, width=32, depth=1)
  return mse_agent.MseBCAgent(
      TIME_STEP_SPEC, ACTION_SPEC, cloning_network,
      tf.keras.optimizers.Adam(1e-2), training_data_spec=DATA_SPEC, **kwargs)


def test_rejects_more_than_one_action():
  with pytest.raises(ValueError, match='single rank-1'):
    mse_agent.MseBCAgent(
        TIME_STEP_SPEC, (ACTION_SPEC, ACTION_SPEC),
        _FirstStepNetwork(TIME_STEP_SPEC.observation),
        tf.keras.optimizers.Adam())


def test_rejects_policy_observations_without_the_data_history_dimension():
  with pytest.raises(ValueError, match='history dimension'):
    mse_agent.MseBCAgent(
        ts.time_step_spec(OBSERVATION_SPEC), ACTION_SPEC,
        mlp_mse.MLPMSE(OBSERVATION_SPEC, ACTION_SPEC),
        tf.keras.optimizers.Adam(), training_data_spec=DATA_SPEC)


def test_train_sequence_length_is_the_history_length():
  assert _agent().train_sequence_length == HISTORY


def test_loss_is_the_squared_error_in_normalised_units_of_the_whole_window():
  observation_normalizer = normalization.ObservationNormalizer(
      {'x': np.full(3, 0.5, np.float32)}, {'x': np.full(3, 2.0, np.float32)})
  agent = _agent(_FirstStepNetwork(TIME_STEP_SPEC.observation),
                 observation_normalizer=observation_normalizer,
                 action_normalizer=normalization.ActionNormalizer(
                     ACTION_SPEC, **HALF_RANGE))
  experience = testing.synthetic_experience(batch_size=8, action_scale=0.4)
  x = experience.observation['x'].numpy()
  predicted = (x[:, 0, :2] - 0.5) / 2.0
  target = 2.0 * experience.action.numpy()[:, -1]
  expected = np.mean((predicted - target) ** 2, axis=-1)
  loss_info = agent.loss(experience)
  np.testing.assert_allclose(loss_info.extra.per_example_loss, expected,
                             rtol=1e-5)
  np.testing.assert_allclose(loss_info.loss, expected.mean(), rtol=1e-5)


def test_training_lowers_the_loss():
  tf.random.set_seed(1)
  agent = _agent(train_step_counter=tf.Variable(0, dtype=tf.int64))
  experience = testing.synthetic_experience(action_scale=0.4)
  initial = agent.loss(experience).loss.numpy()
  for _ in range(100):
    agent.train(experience)
  assert agent.loss(experience).loss.numpy() < 0.1 * initial
  assert int(agent.train_step_counter.numpy()) == 100


def test_policy_denormalises_and_clips_the_network_output():
  agent = _agent(_FirstStepNetwork(TIME_STEP_SPEC.observation),
                 action_normalizer=normalization.ActionNormalizer(
                     ACTION_SPEC, **HALF_RANGE))
  observation = {'x': tf.constant([[[0.4, -0.2, 0.0], [0.0, 0.0, 0.0]],
                                   [[3.0, -3.0, 0.0], [0.0, 0.0, 0.0]]])}
  time_step = ts.restart(observation, batch_size=2)
  action = agent.policy.action(time_step).action.numpy()
  np.testing.assert_allclose(action, [[0.2, -0.1], [1.0, -1.0]], rtol=1e-6)
  assert agent.collect_policy is agent.policy


def _env(seed):
  return wrappers.HistoryWrapper(environments.make('PARTICLE', seed=seed),
                                 history_length=HISTORY,
                                 tile_first_step_obs=True)


def test_saved_model_round_trip_acts_in_the_environment(tmp_path):
  tf.random.set_seed(2)
  env = _env(5)
  time_step_spec = tensor_spec.from_spec(env.time_step_spec())
  action_spec = tensor_spec.from_spec(env.action_spec())
  agent = mse_agent.MseBCAgent(
      time_step_spec, action_spec,
      mlp_mse.MLPMSE(time_step_spec.observation, action_spec, width=16,
                     depth=1),
      tf.keras.optimizers.Adam())
  policy_saver.PolicySaver(agent.policy, batch_size=None).save(str(tmp_path))
  loaded = py_tf_eager_policy.SavedModelPyTFEagerPolicy(
      str(tmp_path), load_specs_from_pbtxt=True, batch_time_steps=False)
  time_step = env.reset()
  for _ in range(5):
    batched = nest_utils.batch_nested_array(time_step)
    action = loaded.action(batched).action[0]
    expected = agent.policy.action(
        tf.nest.map_structure(tf.constant, batched)).action[0]
    assert env.action_spec().check_array(np.asarray(action, np.float32))
    np.testing.assert_allclose(action, expected, rtol=1e-5, atol=1e-6)
    time_step = env.step(action)
