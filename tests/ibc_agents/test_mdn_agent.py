import math

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
from ibc_agents import mdn_agent
from ibc_agents import normalization
from ibc_agents.networks import mlp_mdn

HISTORY = testing.HISTORY
OBSERVATION_SPEC = testing.OBSERVATION_SPEC
ACTION_SPEC = testing.ACTION_SPEC
DATA_SPEC = testing.DATA_SPEC
TIME_STEP_SPEC = testing.TIME_STEP_SPEC
# Two components over normalised actions; the second is three times as likely.
LOGITS = [0.0, math.log(3.0)]
MEANS = [[-0.5, 0.5], [0.8, -0.2]]
SCALES = [[0.3, 0.6], [0.2, 0.1]]


class _FixedMixture(network.Network):
  """Hand-made MDN: the same mixture for every observation."""

  def __init__(self, observation_spec, logits=LOGITS, means=MEANS,
               scales=SCALES):
    super().__init__(observation_spec, state_spec=(), name='FixedMixture')
    self._unused = tf.Variable(0.0)
    self._parameters = mlp_mdn.MixtureParameters(
        tf.constant(logits), tf.constant(means), tf.constant(scales))

  def call(self, observations, step_type=None, network_state=(),
           training=False):
    batch_size = tf.shape(tf.nest.flatten(observations)[0])[0]
    return tf.nest.map_structure(
        lambda p: tf.repeat(p[None], batch_size, axis=0),
        self._parameters), network_state


def _agent(cloning_network=None, **kwargs):
  cloning_network = cloning_network or mlp_mdn.MLPMDN(
      TIME_STEP_SPEC.observation, ACTION_SPEC, width=32, depth=1,
      num_components=3)
  return mdn_agent.MdnBCAgent(
      TIME_STEP_SPEC, ACTION_SPEC, cloning_network,
      tf.keras.optimizers.Adam(1e-3), training_data_spec=DATA_SPEC, **kwargs)


def _mixture_nll(action):
  """-log sum_k w_k prod_a N(action_a; mean_ka, scale_ka), by hand."""
  weights = np.exp(LOGITS) / np.sum(np.exp(LOGITS))
  density = 0.0
  for weight, means, scales in zip(weights, MEANS, SCALES):
    component = 1.0
    for x, mean, scale in zip(action, means, scales):
      component *= math.exp(-0.5 * ((x - mean) / scale) ** 2) / (
          scale * math.sqrt(2 * math.pi))
    density += weight * component
  return -math.log(density)


def test_rejects_more_than_one_action():
  with pytest.raises(ValueError, match='single rank-1'):
    mdn_agent.MdnBCAgent(
        TIME_STEP_SPEC, (ACTION_SPEC, ACTION_SPEC),
        _FixedMixture(TIME_STEP_SPEC.observation), tf.keras.optimizers.Adam())


def test_rejects_policy_observations_without_the_data_history_dimension():
  with pytest.raises(ValueError, match='history dimension'):
    mdn_agent.MdnBCAgent(
        ts.time_step_spec(OBSERVATION_SPEC), ACTION_SPEC,
        _FixedMixture(OBSERVATION_SPEC), tf.keras.optimizers.Adam(),
        training_data_spec=DATA_SPEC)


def test_loss_is_the_negative_log_likelihood_of_the_normalised_action():
  # Demonstrated actions in [-0.5, 0.5]: normalised action = 2 * action.
  agent = _agent(_FixedMixture(TIME_STEP_SPEC.observation),
                 action_normalizer=normalization.ActionNormalizer(
                     ACTION_SPEC, [-0.5, -0.5], [0.5, 0.5],
                     boundary_buffer=0.0))
  actions = np.array([[0.3, -0.1], [-0.25, 0.25], [0.0, 0.0]], np.float32)
  experience = testing.windows(np.zeros([3, HISTORY, 3], np.float32),
                           np.repeat(actions[:, None], HISTORY, axis=1))
  expected = [_mixture_nll(2.0 * action) for action in actions]
  loss_info = agent.loss(experience)
  np.testing.assert_allclose(loss_info.extra.per_example_loss, expected,
                             rtol=1e-5)
  np.testing.assert_allclose(loss_info.loss, np.mean(expected), rtol=1e-5)


def test_training_lowers_the_loss():
  tf.random.set_seed(1)
  agent = _agent(train_step_counter=tf.Variable(0, dtype=tf.int64))
  experience = testing.synthetic_experience()
  initial = agent.loss(experience).loss.numpy()
  for _ in range(100):
    agent.train(experience)
  assert agent.loss(experience).loss.numpy() < initial - 2.0
  assert int(agent.train_step_counter.numpy()) == 100


@pytest.mark.parametrize('observation_scale,action', [
    (1e6, 1e-30), (1e6, 1e3), (1e-6, -1e3), (1.0, 0.0)])
def test_training_stays_finite_on_extreme_data(observation_scale, action):
  tf.random.set_seed(2)
  agent = _agent()
  experience = testing.synthetic_experience(
      batch_size=16, observation_scale=observation_scale)
  experience = experience._replace(action=tf.fill([16, HISTORY, 2], action))
  for _ in range(5):
    loss = agent.train(experience).loss.numpy()
    assert np.isfinite(loss), loss
  for variable in agent.cloning_network.variables:
    assert np.all(np.isfinite(variable.numpy())), variable.name


def test_greedy_policy_acts_with_the_mean_of_the_most_likely_component():
  agent = _agent(_FixedMixture(TIME_STEP_SPEC.observation))
  time_step = ts.restart({'x': tf.zeros([4, HISTORY, 3])}, batch_size=4)
  action = agent.policy.action(time_step).action.numpy()
  np.testing.assert_allclose(action, np.tile(MEANS[1], (4, 1)), rtol=1e-6)


def test_collect_policy_samples_every_component():
  tf.random.set_seed(3)
  agent = _agent(_FixedMixture(
      TIME_STEP_SPEC.observation, logits=[0.0, 0.0],
      scales=[[1e-4, 1e-4], [1e-4, 1e-4]]))
  time_step = ts.restart({'x': tf.zeros([200, HISTORY, 3])}, batch_size=200)
  action = agent.collect_policy.action(time_step).action.numpy()
  distances = np.abs(action[:, None, :] - np.array(MEANS)[None]).max(-1)
  assert np.all(distances.min(axis=1) < 1e-3)
  nearest = distances.argmin(axis=1)
  assert 60 < np.sum(nearest == 0) < 140


def _env(seed):
  return wrappers.HistoryWrapper(environments.make('PARTICLE', seed=seed),
                                 history_length=HISTORY,
                                 tile_first_step_obs=True)


def test_saved_model_round_trip_acts_in_the_environment(tmp_path):
  tf.random.set_seed(4)
  env = _env(5)
  time_step_spec = tensor_spec.from_spec(env.time_step_spec())
  action_spec = tensor_spec.from_spec(env.action_spec())
  agent = mdn_agent.MdnBCAgent(
      time_step_spec, action_spec,
      mlp_mdn.MLPMDN(time_step_spec.observation, action_spec, width=16,
                     depth=1),
      tf.keras.optimizers.Adam())
  for name, policy in (('greedy', agent.policy),
                       ('collect', agent.collect_policy)):
    policy_saver.PolicySaver(policy, batch_size=None).save(
        str(tmp_path / name))
  greedy, collect = (
      py_tf_eager_policy.SavedModelPyTFEagerPolicy(
          str(tmp_path / name), load_specs_from_pbtxt=True,
          batch_time_steps=False) for name in ('greedy', 'collect'))
  time_step = env.reset()
  for _ in range(5):
    batched = nest_utils.batch_nested_array(time_step)
    action = greedy.action(batched).action[0]
    expected = agent.policy.action(
        tf.nest.map_structure(tf.constant, batched)).action[0]
    np.testing.assert_allclose(action, expected, rtol=1e-5, atol=1e-6)
    sampled = collect.action(batched).action[0]
    for act in (action, sampled):
      assert env.action_spec().check_array(np.asarray(act, np.float32))
    time_step = env.step(action)
