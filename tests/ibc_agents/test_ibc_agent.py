import numpy as np
import pytest
import tensorflow as tf
from tf_agents.networks import network
from tf_agents.trajectories import time_step as ts

from ibc_agents import testing
from ibc_agents import ibc_agent
from ibc_agents import losses
from ibc_agents import samplers
from ibc_agents.networks import mlp_ebm

HISTORY = testing.HISTORY
OBSERVATION_SPEC = testing.OBSERVATION_SPEC
ACTION_SPEC = testing.ACTION_SPEC
DATA_SPEC = testing.DATA_SPEC
TIME_STEP_SPEC = testing.TIME_STEP_SPEC


def _agent(network=None, **kwargs):
  network = network or mlp_ebm.MLPEBM(TIME_STEP_SPEC.observation, ACTION_SPEC,
                                      width=32, depth=1)
  return ibc_agent.ImplicitBCAgent(
      TIME_STEP_SPEC, ACTION_SPEC, network, tf.keras.optimizers.Adam(1e-2),
      training_data_spec=DATA_SPEC,
      train_step_counter=tf.Variable(0, dtype=tf.int64), **kwargs)


class _PeakedScore(network.Network):
  """Hand-made score -slope * |a - target|^2, target from the observation.

  Its gradient norm grows with the distance to the target, so steepness and
  hard negatives are known in advance.
  """

  def __init__(self, slope):
    super().__init__((TIME_STEP_SPEC.observation, ACTION_SPEC), state_spec=(),
                     name='PeakedScore')
    self._slope = tf.Variable(slope)

  def call(self, inputs, step_type=None, network_state=(), training=False):
    observations, actions = inputs
    x = observations['x'][:, -1]
    target = tf.stack([x[:, 0], -x[:, 1]], axis=-1) * 0.9
    if actions.shape.rank == 2:
      actions = actions[:, None, :]
      squeeze = True
    else:
      squeeze = False
    scores = -self._slope * tf.reduce_sum(
        tf.square(actions - target[:, None, :]), -1)
    return (scores[:, 0] if squeeze else scores), network_state


def test_rejects_more_than_one_action():
  with pytest.raises(ValueError, match='single rank-1'):
    ibc_agent.ImplicitBCAgent(
        TIME_STEP_SPEC, (ACTION_SPEC, ACTION_SPEC),
        mlp_ebm.MLPEBM(TIME_STEP_SPEC.observation, ACTION_SPEC),
        tf.keras.optimizers.Adam())


def test_rejects_non_positive_counter_examples():
  with pytest.raises(ValueError, match='num_counter_examples'):
    _agent(num_counter_examples=0)


def test_rejects_policy_observations_without_the_data_history_dimension():
  flat_time_step_spec = ts.time_step_spec(OBSERVATION_SPEC)
  with pytest.raises(ValueError, match='history dimension'):
    ibc_agent.ImplicitBCAgent(
        flat_time_step_spec, ACTION_SPEC,
        mlp_ebm.MLPEBM(OBSERVATION_SPEC, ACTION_SPEC),
        tf.keras.optimizers.Adam(), training_data_spec=DATA_SPEC)


def test_train_sequence_length_is_the_history_length():
  assert _agent().train_sequence_length == HISTORY


def test_loss_is_reproducible_under_a_seed():
  agent = _agent(num_counter_examples=8)
  experience = testing.synthetic_experience()
  tf.random.set_seed(7)
  first = agent.loss(experience).loss.numpy()
  tf.random.set_seed(7)
  second = agent.loss(experience).loss.numpy()
  np.testing.assert_allclose(first, second)


def test_initial_loss_is_near_log_of_candidate_count():
  tf.random.set_seed(0)
  agent = _agent(num_counter_examples=31)
  loss = agent.loss(testing.synthetic_experience(batch_size=256)).loss.numpy()
  assert abs(loss - np.log(32)) < 0.5


def test_training_lowers_the_loss():
  tf.random.set_seed(1)
  agent = _agent(num_counter_examples=16)
  experience = testing.synthetic_experience()
  initial = agent.loss(experience).loss.numpy()
  for _ in range(150):
    agent.train(experience)
  tf.random.set_seed(2)
  final = agent.loss(experience).loss.numpy()
  assert final < 0.5 * initial
  assert int(agent.train_step_counter.numpy()) == 150


def test_checkpoint_restores_the_network_exactly(tmp_path):
  tf.random.set_seed(3)
  agent = _agent()
  agent.train(testing.synthetic_experience())
  checkpoint = tf.train.Checkpoint(agent=agent)
  path = checkpoint.save(str(tmp_path / 'ckpt'))
  saved = [v.numpy() for v in agent.cloning_network.variables]
  agent.train(testing.synthetic_experience(seed=1))
  checkpoint.restore(path)
  for value, variable in zip(saved, agent.cloning_network.variables):
    np.testing.assert_array_equal(value, variable.numpy())


def test_rejects_a_refined_fraction_outside_zero_to_one():
  with pytest.raises(ValueError, match='fraction_refined'):
    _agent(fraction_refined=1.5)


def test_sampler_refined_counter_examples_are_harder_than_uniform_ones():
  experience = testing.synthetic_experience(batch_size=256)
  uniform = _agent(network=_PeakedScore(20.0), num_counter_examples=32)
  refined = _agent(network=_PeakedScore(20.0), num_counter_examples=32,
                   counter_example_sampler=samplers.dfo_maximize,
                   fraction_refined=0.5)
  tf.random.set_seed(8)
  uniform_loss = uniform.loss(experience).loss.numpy()
  tf.random.set_seed(8)
  refined_loss = refined.loss(experience).loss.numpy()
  assert refined_loss > uniform_loss + 0.5


def test_near_expert_counter_examples_are_harder_than_uniform_ones():
  experience = testing.synthetic_experience(batch_size=256)
  uniform = _agent(network=_PeakedScore(20.0), num_counter_examples=32)
  near = _agent(network=_PeakedScore(20.0), num_counter_examples=32,
                fraction_near_expert=0.25, near_expert_std=0.05)
  tf.random.set_seed(8)
  uniform_loss = uniform.loss(experience).loss.numpy()
  tf.random.set_seed(8)
  near_loss = near.loss(experience).loss.numpy()
  # 8 counter-examples scoring about -20 * 2 * 0.05^2 = -0.1 against the
  # expert's 0 put about 8 * 0.9 into the softmax's denominator, where the 32
  # uniform ones put about exp(uniform_loss) - 1 (1.1 here).
  assert near_loss > uniform_loss + 1.0


def test_rejects_refined_and_near_expert_fractions_above_one():
  with pytest.raises(ValueError, match='together exceed 1'):
    _agent(counter_example_sampler=samplers.dfo_maximize, fraction_refined=0.75,
           fraction_near_expert=0.5)
  with pytest.raises(ValueError, match='near_expert_std'):
    _agent(fraction_near_expert=0.5, near_expert_std=0.0)


def test_gradient_penalty_adds_the_hinge_on_counter_example_gradients():
  experience = testing.synthetic_experience(batch_size=64)
  plain = _agent(network=_PeakedScore(5.0), num_counter_examples=16)
  penalised = _agent(network=_PeakedScore(5.0), num_counter_examples=16,
                     gradient_penalty=lambda g: losses.gradient_penalty(
                         g, margin=1.0))
  tf.random.set_seed(9)
  plain_loss = plain.loss(experience).loss.numpy()
  tf.random.set_seed(9)
  penalised_loss = penalised.loss(experience).loss.numpy()
  assert penalised_loss > plain_loss + 1.0
  gentle = _agent(network=_PeakedScore(1e-3), num_counter_examples=16,
                  gradient_penalty=lambda g: losses.gradient_penalty(
                      g, margin=1.0))
  tf.random.set_seed(9)
  gentle_plain = _agent(network=_PeakedScore(1e-3),
                        num_counter_examples=16).loss(experience).loss.numpy()
  tf.random.set_seed(9)
  np.testing.assert_allclose(gentle.loss(experience).loss.numpy(),
                             gentle_plain, rtol=1e-4)


def test_training_with_langevin_counter_examples_lowers_the_loss():
  tf.random.set_seed(10)
  def langevin(score_fn, actions, low, high):
    actions = samplers.langevin_actions(score_fn, actions, low, high,
                                        num_iterations=10)
    return None, actions, score_fn(actions)

  agent = _agent(num_counter_examples=8, counter_example_sampler=langevin,
                 gradient_penalty=losses.gradient_penalty)
  experience = testing.synthetic_experience()
  initial = agent.loss(experience).loss.numpy()
  for _ in range(60):
    agent.train(experience)
  assert agent.loss(experience).loss.numpy() < initial


@pytest.mark.parametrize('debug_summaries', [False, True])
def test_train_step_summarises_where_the_counter_example_chains_end(
    tmp_path, debug_summaries):
  def langevin(score_fn, actions, low, high):
    actions = samplers.langevin_actions(score_fn, actions, low, high,
                                        num_iterations=3)
    return None, actions, score_fn(actions)

  agent = _agent(num_counter_examples=8, counter_example_sampler=langevin,
                 fraction_refined=0.5, debug_summaries=debug_summaries)
  with tf.summary.create_file_writer(str(tmp_path)).as_default():
    agent.train(testing.synthetic_experience())
  recorded = {}
  for path in tf.io.gfile.glob(str(tmp_path / 'events.*')):
    for event in tf.compat.v1.train.summary_iterator(path):
      for value in event.summary.value:
        recorded[value.tag] = float(tf.make_ndarray(value.tensor))
  assert np.isfinite(recorded['refined_counter_example_score'])
  if debug_summaries:
    assert recorded['refined_counter_example_gradient_norm'] > 0
  else:
    assert 'refined_counter_example_gradient_norm' not in recorded
