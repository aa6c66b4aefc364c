"""The agents drop into TF-Agents code as its own agents do."""
import inspect

import pytest
import tensorflow as tf

import ibc_agents
from ibc_agents import testing
from ibc_agents.networks import mlp_ebm

AGENTS = [ibc_agents.ImplicitBCAgent, ibc_agents.AutoregressiveImplicitBCAgent,
          ibc_agents.MseBCAgent, ibc_agents.MdnBCAgent]


def _parameters(function) -> list[str]:
  return [name for name in inspect.signature(function).parameters
          if name != 'self']


@pytest.mark.parametrize('agent_class', AGENTS, ids=lambda c: c.__name__)
def test_every_agent_accepts_every_base_keyword(agent_class):
  assert set(_parameters(ibc_agents.BCAgentBase.__init__)) <= set(
      _parameters(agent_class.__init__))


@pytest.mark.parametrize('agent_class', [ibc_agents.BCAgentBase, *AGENTS],
                         ids=lambda c: c.__name__)
def test_every_constructor_argument_is_documented(agent_class):
  doc = inspect.getdoc(agent_class.__init__)
  undocumented = [name for name in _parameters(agent_class.__init__)
                  if f'\n  {name}: ' not in doc]
  assert not undocumented


def test_implicit_agent_takes_xla_and_weight_averaging_as_keywords():
  agent = ibc_agents.ImplicitBCAgent(
      testing.TIME_STEP_SPEC, testing.ACTION_SPEC,
      mlp_ebm.MLPEBM(testing.TIME_STEP_SPEC.observation, testing.ACTION_SPEC,
                     width=16, depth=1),
      tf.keras.optimizers.Adam(1e-3), num_counter_examples=4,
      training_data_spec=testing.DATA_SPEC, jit_compile=True,
      policy_averaging_decay=0.9)
  loss = agent.train(testing.synthetic_experience(batch_size=8)).loss
  assert tf.math.is_finite(loss)
  assert agent.policy_network is not agent.cloning_network
