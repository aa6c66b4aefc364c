"""Tests for ibc_agents.train.evaluation: lockstep episodes and normalized scores."""
import numpy as np
import pytest
from tf_agents.environments import py_environment
from tf_agents.policies import random_py_policy
from tf_agents.specs import array_spec
from tf_agents.trajectories import time_step as ts

from ibc_agents.train import evaluation


class _CountingEnv(py_environment.PyEnvironment):
  """Episodes of `seed % 3 + 1` steps, reward 1 per step; success if long."""

  def __init__(self, seed: int):
    super().__init__()
    self._length = seed % 3 + 1
    self._steps = 0

  def observation_spec(self):
    return array_spec.ArraySpec((1,), np.float32)

  def action_spec(self):
    return array_spec.BoundedArraySpec((1,), np.float32, -1.0, 1.0)

  def get_info(self):
    return {'success': self._length == 3}

  def _reset(self):
    self._steps = 0
    return ts.restart(np.zeros(1, np.float32))

  def _step(self, action):
    self._steps += 1
    if self._steps == self._length:
      return ts.termination(np.zeros(1, np.float32), np.float32(1.0))
    return ts.transition(np.zeros(1, np.float32), np.float32(1.0))


def _evaluate(**kwargs) -> evaluation.EvalResult:
  env = _CountingEnv(0)
  policy = random_py_policy.RandomPyPolicy(
      env.time_step_spec(), env.action_spec(), outer_dims=(4,))
  return evaluation.evaluate(policy, _CountingEnv, num_episodes=4, **kwargs)


def test_averages_returns_lengths_and_success():
  result = _evaluate()  # seeds 0..3: lengths 1, 2, 3, 1
  assert result.avg_return == pytest.approx(7 / 4)
  assert result.avg_episode_length == pytest.approx(7 / 4)
  assert result.success_rate == pytest.approx(1 / 4)
  assert result.normalized_score_mean is None
  assert 'normalized_score_mean' not in result.as_dict()


def test_normalize_return_gives_mean_and_std_of_scores():
  result = _evaluate(normalize_return=lambda r: 10.0 * r - 5.0)
  # Scores 5, 15, 25, 5: mean 12.5, population std sqrt(68.75).
  assert result.normalized_score_mean == pytest.approx(12.5)
  assert result.normalized_score_std == pytest.approx(np.sqrt(68.75))
  assert result.as_dict()['normalized_score_std'] == pytest.approx(
      np.sqrt(68.75))


class _LiveCount:
  """Counts the `_CountingEnv`s alive at once (built and not closed)."""
  live = 0
  most = 0


class _CountedEnv(_CountingEnv):

  def __init__(self, seed: int):
    super().__init__(seed)
    _LiveCount.live += 1
    _LiveCount.most = max(_LiveCount.most, _LiveCount.live)

  def close(self):
    _LiveCount.live -= 1


@pytest.mark.parametrize('max_live_episodes', [1, 2, 3, 7])
def test_waves_bound_the_live_environments_and_keep_the_results(
    max_live_episodes):
  _LiveCount.live = _LiveCount.most = 0
  env = _CountingEnv(0)
  policy = random_py_policy.RandomPyPolicy(
      env.time_step_spec(), env.action_spec(), outer_dims=(7,))
  result = evaluation.evaluate(policy, _CountedEnv, num_episodes=7,
                               max_live_episodes=max_live_episodes)
  assert _LiveCount.most == min(max_live_episodes, 7)
  assert _LiveCount.live == 0
  # Seeds 0..6: lengths 1, 2, 3, 1, 2, 3, 1.
  assert result.avg_episode_length == pytest.approx(13 / 7)
  assert result.success_rate == pytest.approx(2 / 7)


def test_waves_refuse_a_non_positive_size():
  with pytest.raises(ValueError, match='max_live_episodes'):
    _evaluate(max_live_episodes=0)


class _FlaggingEnv(_CountingEnv):
  """`_CountingEnv` whose final info also says whether the episode was short."""

  def get_info(self):
    return dict(super().get_info(), short=self._length == 1, label='not a flag')


@pytest.mark.parametrize('num_workers', [1, 2])
def test_boolean_info_entries_give_rates_beside_success(num_workers):
  env = _FlaggingEnv(0)
  policy = random_py_policy.RandomPyPolicy(
      env.time_step_spec(), env.action_spec(), outer_dims=(4,))
  result = evaluation.evaluate(policy, _FlaggingEnv, num_episodes=4,
                               num_workers=num_workers)
  # Seeds 0..3: lengths 1, 2, 3, 1.
  assert result.info_rates == {'short': pytest.approx(2 / 4)}
  assert result.as_dict()['short'] == pytest.approx(2 / 4)
  assert result.success_rate == pytest.approx(1 / 4)


class _BatchRecordingPolicy(random_py_policy.RandomPyPolicy):
  """A random policy that records the batch size of each call."""

  def __init__(self, env):
    super().__init__(env.time_step_spec(), env.action_spec())
    self.batch_sizes = []

  def _action(self, time_step, policy_state):
    self.batch_sizes.append(time_step.observation.shape[0])
    self._outer_dims = time_step.observation.shape[:1]
    return super()._action(time_step, policy_state)


def test_the_policy_acts_on_running_episodes_padded_to_a_power_of_two():
  policy = _BatchRecordingPolicy(_CountingEnv(0))
  # Seeds 0..4: lengths 1, 2, 3, 1, 2: 5 running, then 3 (padded to 4),
  # then 1.
  result = evaluation.evaluate(policy, _CountingEnv, num_episodes=5)
  assert policy.batch_sizes == [5, 4, 1]
  assert result.avg_episode_length == pytest.approx(9 / 5)
