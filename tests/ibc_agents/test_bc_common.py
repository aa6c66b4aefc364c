import gin
import numpy as np
import pytest
import tensorflow as tf

from ibc_agents import ibc_agent
from ibc_agents import mse_agent
from ibc_agents import testing
from ibc_agents.networks import mlp_ebm
from ibc_agents.networks import mlp_mse


def _mse_agent(**kwargs):
  return mse_agent.MseBCAgent(
      testing.TIME_STEP_SPEC, testing.ACTION_SPEC,
      mlp_mse.MLPMSE(testing.TIME_STEP_SPEC.observation, testing.ACTION_SPEC,
                     width=16, depth=1),
      tf.keras.optimizers.Adam(1e-2), training_data_spec=testing.DATA_SPEC,
      train_step_counter=tf.Variable(0, dtype=tf.int64), **kwargs)


def test_without_averaging_the_policy_acts_with_the_trained_network():
  agent = _mse_agent()
  assert agent.policy_network is agent.cloning_network


@pytest.mark.parametrize('decay', [0.0, 1.0, -0.5, 1.5])
def test_rejects_an_averaging_decay_outside_the_open_unit_interval(decay):
  with pytest.raises(ValueError, match='policy_averaging_decay'):
    _mse_agent(policy_averaging_decay=decay)


def test_policy_weights_are_the_moving_average_of_the_trained_weights():
  decay = 0.5
  agent = _mse_agent(policy_averaging_decay=decay)
  expected = [v.numpy() for v in agent.cloning_network.variables]
  for step in range(12):
    agent.train(testing.synthetic_experience(batch_size=16, seed=step))
    step_decay = min(decay, (1.0 + step) / (10.0 + step))
    expected = [step_decay * average + (1.0 - step_decay) * variable.numpy()
                for average, variable in zip(
                    expected, agent.cloning_network.variables)]
  averaged = agent.policy_network.variables
  for want, got in zip(expected, averaged):
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-6)
  trained = agent.cloning_network.variables
  assert any(not np.allclose(a.numpy(), t.numpy())
             for a, t in zip(averaged, trained))
  policy_variables = {id(v) for v in agent.policy.variables()}
  assert policy_variables == {id(v) for v in averaged}


def test_implicit_policy_scores_with_the_averaged_network_bound_in_gin():
  with gin.unlock_config():
    gin.bind_parameter('ImplicitBCAgent.policy_averaging_decay', 0.9)
  try:
    agent = ibc_agent.ImplicitBCAgent(
        testing.TIME_STEP_SPEC, testing.ACTION_SPEC,
        mlp_ebm.MLPEBM(testing.TIME_STEP_SPEC.observation,
                       testing.ACTION_SPEC, width=16, depth=1),
        tf.keras.optimizers.Adam(1e-2), num_counter_examples=4,
        training_data_spec=testing.DATA_SPEC)
  finally:
    gin.clear_config()
  agent.train(testing.synthetic_experience(batch_size=8))
  assert agent.policy_network is not agent.cloning_network
  assert {id(v) for v in agent.policy.variables()} == {
      id(v) for v in agent.policy_network.variables}
