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
from ibc_agents import ibc_policy
from ibc_agents import normalization
from ibc_agents import samplers


class _GoalScore(network.Network):
  """Hand-made score: highest where the action equals the observed first goal.

  Observations are [B, T, n] histories; actions and goals live in the
  normalised [-1, 1] box, so the goal (in [0, 1]) is mapped there too.
  """

  def __init__(self, observation_spec, action_spec):
    super().__init__((observation_spec, action_spec), state_spec=(),
                     name='GoalScore')
    self._unused = tf.Variable(0.0)

  def call(self, inputs, step_type=None, network_state=(), training=False):
    observations, actions = inputs
    goal = observations['pos_first_goal'][:, -1] * 2.0 - 1.0  # [B, n]
    if actions.shape.rank == 2:
      return -tf.reduce_sum(tf.square(actions - goal), -1), network_state
    return -100.0 * tf.reduce_sum(
        tf.square(actions - goal[:, None, :]), -1), network_state


def _env(seed):
  return wrappers.HistoryWrapper(environments.make('PARTICLE', seed=seed),
                                 history_length=2, tile_first_step_obs=True)


def _policy(num_action_samples=512, **options):
  env = _env(0)
  time_step_spec = tensor_spec.from_spec(env.time_step_spec())
  action_spec = tensor_spec.from_spec(env.action_spec())
  return ibc_policy.IbcPolicy(
      time_step_spec, action_spec,
      _GoalScore(time_step_spec.observation, action_spec),
      action_normalizer=normalization.ActionNormalizer(action_spec),
      num_action_samples=num_action_samples, **options)


def _best_initial_sample(score_fn, actions, low, high, draws):
  """A sampler that only picks the best of the samples it is given."""
  return samplers.dfo_maximize(score_fn, actions, low, high, num_iterations=0,
                               draws=draws)


def _batch(seeds):
  return nest_utils.stack_nested_arrays([_env(s).reset() for s in seeds])


def test_policy_picks_the_best_scoring_action():
  tf.random.set_seed(0)
  time_steps = _batch([1, 2, 3])
  actions = _policy().action(
      tf.nest.map_structure(tf.constant, time_steps)).action.numpy()
  np.testing.assert_allclose(
      actions, time_steps.observation['pos_first_goal'][:, -1], atol=0.02)


def test_policy_rejects_non_positive_sample_counts():
  with pytest.raises(ValueError, match='num_action_samples'):
    _policy(num_action_samples=0)


def test_saved_model_round_trip_acts_in_the_environment(tmp_path):
  tf.random.set_seed(1)
  policy = _policy()
  policy_saver.PolicySaver(policy, batch_size=None).save(str(tmp_path))
  loaded = py_tf_eager_policy.SavedModelPyTFEagerPolicy(
      str(tmp_path), load_specs_from_pbtxt=True, batch_time_steps=False)
  env = _env(5)
  time_step = env.reset()
  for _ in range(5):
    action = loaded.action(nest_utils.batch_nested_array(time_step)).action[0]
    assert env.action_spec().check_array(np.asarray(action, np.float32))
    np.testing.assert_allclose(
        action, time_step.observation['pos_first_goal'][-1], atol=0.02)
    time_step = env.step(action)


@pytest.mark.parametrize('value', [np.nan, np.inf])
def test_saved_model_rejects_a_non_finite_observation_saying_so(tmp_path,
                                                                value):
  policy_saver.PolicySaver(_policy(), batch_size=None).save(str(tmp_path))
  loaded = py_tf_eager_policy.SavedModelPyTFEagerPolicy(
      str(tmp_path), load_specs_from_pbtxt=True, batch_time_steps=False)
  time_steps = _batch([1, 2])
  time_steps.observation['vel_agent'][1, -1, 0] = value
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match='non-finite .* observation'):
    loaded.action(time_steps)


def test_compiled_search_picks_the_best_scoring_action():
  tf.random.set_seed(0)
  time_steps = _batch([1, 2, 3])
  actions = _policy(jit_compile=True).action(
      tf.nest.map_structure(tf.constant, time_steps)).action.numpy()
  np.testing.assert_allclose(
      actions, time_steps.observation['pos_first_goal'][:, -1], atol=0.02)


def _warm_started_actions(step_type):
  """Actions of a policy whose every sample is drawn around its last action
  (0.1, 0.1 in the [0, 1] box, normalised -0.8), and which only picks the
  best of its initial samples."""
  tf.random.set_seed(2)
  policy = _policy(num_action_samples=256, warm_start_samples=256,
                   warm_start_std=0.01, sampler=_best_initial_sample)
  time_steps = tf.nest.map_structure(tf.constant, _batch([1, 2, 3]))
  time_steps = time_steps._replace(step_type=tf.fill([3], step_type))
  last_action = tf.fill([3, 2], -0.8)
  action_step = policy.action(time_steps, last_action)
  return (time_steps.observation['pos_first_goal'][:, -1].numpy(),
          action_step.action.numpy(), action_step.state.numpy())


def test_warm_start_searches_around_the_last_action_within_an_episode():
  goals, actions, state = _warm_started_actions(ts.StepType.MID)
  np.testing.assert_allclose(actions, 0.1, atol=0.02)
  assert np.abs(actions - goals).max() > 0.1  # not where a full search goes
  np.testing.assert_allclose(state, actions * 2.0 - 1.0, atol=1e-5)


def test_warm_start_searches_everywhere_at_an_episode_start():
  goals, actions, _ = _warm_started_actions(ts.StepType.FIRST)
  np.testing.assert_allclose(actions, goals, atol=0.1)


def test_warm_start_needs_no_more_samples_than_the_search_has():
  with pytest.raises(ValueError, match='warm_start_samples'):
    _policy(num_action_samples=64, warm_start_samples=65)


def test_warm_started_compiled_saved_model_carries_its_state(tmp_path):
  tf.random.set_seed(3)
  policy_saver.PolicySaver(
      _policy(warm_start_samples=64, jit_compile=True),
      batch_size=None).save(str(tmp_path))
  loaded = py_tf_eager_policy.SavedModelPyTFEagerPolicy(
      str(tmp_path), load_specs_from_pbtxt=True, batch_time_steps=False)
  env = _env(5)
  time_step = env.reset()
  policy_state = loaded.get_initial_state(1)
  for _ in range(5):
    action_step = loaded.action(nest_utils.batch_nested_array(time_step),
                                policy_state)
    action = np.asarray(action_step.action)[0]
    np.testing.assert_allclose(
        action, time_step.observation['pos_first_goal'][-1], atol=0.02)
    np.testing.assert_allclose(np.asarray(action_step.state)[0],
                               action * 2.0 - 1.0, atol=1e-5)
    policy_state = action_step.state
    time_step = env.step(action)


def _noisy_policy(**options):
  """A policy whose choice depends on its draws: 16 samples, no refinement."""
  return _policy(num_action_samples=16, sampler=_best_initial_sample,
                 **options)


def test_an_observation_gets_the_same_action_in_any_batch():
  policy = _noisy_policy()
  time_steps = tf.nest.map_structure(tf.constant, _batch([1, 2, 3, 4, 5]))
  together = policy.action(time_steps).action.numpy()
  for row in (0, 3):
    alone = policy.action(tf.nest.map_structure(
        lambda x, row=row: x[row:row + 1], time_steps)).action.numpy()
    np.testing.assert_array_equal(alone[0], together[row])
  again = policy.action(tf.nest.map_structure(
      lambda x: tf.reverse(x, [0]), time_steps)).action.numpy()
  np.testing.assert_array_equal(again[::-1], together)


def test_the_draw_seed_changes_the_draws_and_none_uses_tf_random():
  time_steps = tf.nest.map_structure(tf.constant, _batch([1, 2, 3, 4, 5]))
  seed_0 = _noisy_policy().action(time_steps).action.numpy()
  seed_1 = _noisy_policy(draw_seed=1).action(time_steps).action.numpy()
  assert not np.array_equal(seed_0, seed_1)
  stateful = _noisy_policy(draw_seed=None)
  first = stateful.action(time_steps).action.numpy()
  assert not np.array_equal(first, stateful.action(time_steps).action.numpy())


def test_policy_rejects_a_negative_draw_seed():
  with pytest.raises(ValueError, match='draw_seed'):
    _policy(draw_seed=-1)
