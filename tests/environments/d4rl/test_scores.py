"""Tests for D4RL normalized scores and the registry's score hook."""
import pytest

import environments
from environments.d4rl import scores


@pytest.mark.parametrize('task', sorted(scores.REFERENCE_RETURNS))
def test_reference_returns_score_0_and_100(task):
  random_return, expert_return = scores.REFERENCE_RETURNS[task]
  assert scores.normalized_score(task, random_return) == pytest.approx(0.0)
  assert scores.normalized_score(task, expert_return) == pytest.approx(100.0)


@pytest.mark.parametrize('task, episode_return, expected', [
    # 100 * (0 + 56.512833) / (2880.5693087298737 + 56.512833)
    ('door-human-v0', 0.0, 1.9241148280),
    # halfway between random and expert
    ('door-human-v0', 1412.0282378649, 50.0),
    # 100 * (1000 - 96.262799) / (3076.8331017826877 - 96.262799)
    ('pen-human-v0', 1000.0, 30.3209489860),
    # 100 * (-12.851822 + 6.425911) / (4233.877797728884 + 6.425911): below
    # the random policy's return scores below 0
    ('relocate-human-v0', -12.851822, -0.1515436497),
    # 3 of kitchen's 4 subtasks
    ('kitchen-complete-v0', 3.0, 75.0),
])
def test_normalized_score_matches_hand_arithmetic(task, episode_return,
                                                  expected):
  assert scores.normalized_score(task, episode_return) == pytest.approx(
      expected, abs=1e-6)


def test_unknown_task_lists_known_tasks():
  with pytest.raises(ValueError, match=r'PARTICLE.*known:.*door-human-v0'):
    scores.normalized_score('PARTICLE', 1.0)


def test_registry_exposes_the_score_of_d4rl_tasks_only():
  door_score = environments.normalized_score_fn('door-human-v0')
  assert door_score(2880.5693087298737) == pytest.approx(100.0)
  assert environments.normalized_score_fn('PARTICLE') is None
  for task in scores.REFERENCE_RETURNS:
    assert task in environments.known_tasks()
    assert environments.normalized_score_fn(task) is not None
