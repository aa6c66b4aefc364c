"""An IBC policy's evaluation gives the same episodes in any wave size."""
import collections

import numpy as np
import pytest
import tensorflow as tf
from tf_agents.environments import wrappers
from tf_agents.policies import py_tf_eager_policy
from tf_agents.specs import tensor_spec

import environments
from ibc_agents import ibc_policy
from ibc_agents import normalization
from ibc_agents.networks import mlp_ebm
from ibc_agents.train import evaluation

_ACTIONS = collections.defaultdict(list)  # seed -> the actions it received


class _RecordingEnv(wrappers.PyEnvironmentBaseWrapper):

  def __init__(self, seed):
    super().__init__(wrappers.HistoryWrapper(
        environments.make('PARTICLE', seed=seed), history_length=2,
        tile_first_step_obs=True))
    self._seed = seed

  def _step(self, action):
    _ACTIONS[self._seed].append(np.array(action))
    return self._env.step(action)


def _episodes(policy, max_live_episodes):
  _ACTIONS.clear()
  evaluation.evaluate(policy, _RecordingEnv, num_episodes=5, seed=3,
                      max_live_episodes=max_live_episodes)
  return {seed: np.stack(actions) for seed, actions in _ACTIONS.items()}


@pytest.mark.parametrize('draw_seed, same', [(0, True), (None, False)])
def test_keyed_draws_make_episodes_independent_of_the_wave_size(
    draw_seed, same):
  """An untrained energy: every action hangs on the search's random draws."""
  tf.random.set_seed(0)
  env = _RecordingEnv(0)
  time_step_spec = tensor_spec.from_spec(env.time_step_spec())
  action_spec = tensor_spec.from_spec(env.action_spec())
  policy = ibc_policy.IbcPolicy(
      time_step_spec, action_spec,
      mlp_ebm.MLPEBM(time_step_spec.observation, action_spec, width=32),
      action_normalizer=normalization.ActionNormalizer(action_spec),
      num_action_samples=64, draw_seed=draw_seed)
  eager = py_tf_eager_policy.PyTFEagerPolicy(policy, use_tf_function=True,
                                             batch_time_steps=False)
  together, in_waves = _episodes(eager, None), _episodes(eager, 2)
  assert sorted(together) == sorted(in_waves) == [3, 4, 5, 6, 7]
  assert all(len(actions) > 10 for actions in together.values())
  identical = all(np.array_equal(together[seed], in_waves[seed])
                  for seed in together)
  assert identical == same
