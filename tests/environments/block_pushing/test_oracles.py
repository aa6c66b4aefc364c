"""Tests for the scripted block-pushing oracles."""
import numpy as np
import pytest
from tf_agents.drivers import py_driver

import environments
from environments.block_pushing import oracles


def _run_episode(env, policy):
  """Runs one episode; returns (success, first observation, actions [L, 2])."""
  time_step = env.reset()
  first = time_step.observation
  actions = []
  while not time_step.is_last():
    actions.append(policy.action(time_step).action)
    time_step = env.step(actions[-1])
  return bool(env.get_info()['success']), first, np.stack(actions)


# PUSH's oracle is the original's, which turns misaligned blocks before
# pushing: its recorded episodes (data/original_push_episodes.npz) take up to
# 81 of the 100 steps.
@pytest.mark.parametrize('task, num_episodes, max_fraction', [
    ('PUSH', 6, 0.85), ('REACH', 6, 0.6), ('PUSH_DISCONTINUOUS', 6, 0.6),
    ('PUSH_MULTIMODAL', 3, 0.6)])
def test_oracle_solves_seeded_episodes_well_within_the_step_limit(
    task, num_episodes, max_fraction):
  env = environments.make(task, seed=100)
  try:
    oracle = environments.make_oracle(task, env)
    results = [_run_episode(env, oracle) for _ in range(num_episodes)]
  finally:
    env.close()
  assert all(success for success, _, _ in results)
  # Room left for imitators that are slower than the oracle.
  assert (max(len(actions) for _, _, actions in results) <
          max_fraction * env.max_steps)
  for _, _, actions in results:
    assert actions.dtype == np.float32
    assert np.all(np.abs(actions) <= env.action_spec().maximum + 1e-7)


def test_discontinuous_oracle_turns_to_target2_once_the_block_reaches_target():
  env = environments.make('PUSH_DISCONTINUOUS', seed=7)
  try:
    oracle = environments.make_oracle('PUSH_DISCONTINUOUS', env)
    for _ in range(3):
      time_step = env.reset()
      reached_target_at = None
      steps = 0
      while not time_step.is_last():
        observation = time_step.observation
        if reached_target_at is None and np.linalg.norm(
            observation['block_translation'] -
            observation['target_translation']) < env.success_tolerance:
          reached_target_at = steps
        time_step = env.step(oracle.action(time_step).action)
        steps += 1
      assert env.get_info()['success']
      assert reached_target_at is not None and reached_target_at < steps
  finally:
    env.close()


def test_oracle_runs_under_py_driver():
  env = environments.make('PUSH', seed=13)
  try:
    oracle = environments.make_oracle('PUSH', env)
    successes = []
    driver = py_driver.PyDriver(
        env, oracle, observers=[],
        info_observers=[lambda info: successes.append(info['success'])],
        max_episodes=2)
    driver.run(env.reset())
  finally:
    env.close()
  assert sum(successes) == 2


def test_waypoint_is_the_goal_when_the_path_is_clear():
  goal = np.array([0.3, 0.1])
  waypoint = oracles.next_waypoint(np.array([0.2, 0.1]), goal,
                                   [np.array([0.25, 0.2])])
  np.testing.assert_array_equal(waypoint, goal)


def test_waypoint_detours_around_a_block_in_the_way():
  start, goal = np.array([0.5, 0.0]), np.array([0.3, 0.0])
  block = np.array([0.4, 0.01])
  waypoint = oracles.next_waypoint(start, goal, [block])
  # Passed on the side the path already leans to (below the block).
  assert waypoint[1] < block[1]
  np.testing.assert_allclose(np.linalg.norm(waypoint - block),
                             oracles.CLEARANCE * oracles.DETOUR_FACTOR)


def test_waypoint_ignores_a_block_the_goal_is_next_to():
  goal = np.array([0.3, 0.0])
  waypoint = oracles.next_waypoint(np.array([0.5, 0.0]), goal,
                                   [goal + [0.01, 0.0]])
  np.testing.assert_array_equal(waypoint, goal)


def _layout(block1, block2, target1, target2):
  return {f'{name}_translation': np.array(xy) for name, xy in (
      ('block1', block1), ('block2', block2), ('target1', target1),
      ('target2', target2))}


def test_multimodal_plans_skip_pushes_that_sweep_past_the_other_block():
  # Crossing over would push each block within 10 cm of the other one.
  observation = _layout((0.3, -0.07), (0.3, 0.07), (0.45, -0.07), (0.45, 0.07))
  plans = oracles._clear_plans(observation, ('block1', 'block2'),
                               ('target1', 'target2'))
  assert sorted(plans) == sorted([
      (('block1', 'target1'), ('block2', 'target2')),
      (('block2', 'target2'), ('block1', 'target1'))])


def test_multimodal_plans_offer_every_assignment_and_order_when_clear():
  observation = _layout((0.3, -0.15), (0.3, 0.15), (0.5, -0.15), (0.5, 0.15))
  plans = oracles._clear_plans(observation, ('block1', 'block2'),
                               ('target1', 'target2'))
  assert len(set(plans)) == 4


def test_multimodal_oracle_varies_which_block_it_pushes_first():
  env = environments.make('PUSH_MULTIMODAL', seed=21)
  try:
    oracle = environments.make_oracle('PUSH_MULTIMODAL', env)
    first_moved = []
    for _ in range(10):
      time_step = env.reset()
      names = ('block_translation', 'block2_translation')
      start = [time_step.observation[name] for name in names]
      moved = [False, False]
      while not any(moved):
        time_step = env.step(oracle.action(time_step).action)
        now = [time_step.observation[name] for name in names]
        moved = [np.linalg.norm(now[i] - start[i]) > 0.01 for i in (0, 1)]
      first_moved.append(moved.index(True))
  finally:
    env.close()
  assert set(first_moved) == {0, 1}
