"""Medians of a block-pushing oracle's demonstrations, on the simulator state.

For each of `--episodes` seeded episodes of `--task` run by its oracle:
the oracle's move per step (norm of the action), the effector's lag behind
its commanded target after each step, and the episode length; prints their
medians and the success rate. With `--reference` it reads the same medians
from recorded episodes in the layout of
`tests/environments/block_pushing/data/original_push_episodes.npz`.

  python -m environments.block_pushing.oracle_stats --task PUSH --episodes 100
"""
import argparse
from typing import Dict

import numpy as np

from environments.block_pushing import block_pushing_env
from environments.block_pushing import oracles

_TASKS = {'PUSH': (block_pushing_env.PushEnv, oracles.PushOracle)}


def oracle_medians(task: str, episodes: int, seed: int) -> Dict[str, float]:
  """Runs the oracle of `task` for `episodes` episodes from `seed`."""
  env_class, oracle_class = _TASKS[task]
  env = env_class(seed=seed)
  oracle = oracle_class(env)
  moves, lags, lengths, successes = [], [], [], 0
  try:
    for _ in range(episodes):
      time_step = env.reset()
      steps = 0
      while not time_step.is_last():
        action = oracle.action(time_step).action
        moves.append(np.linalg.norm(action))
        time_step = env.step(action)
        observation = time_step.observation
        lags.append(np.linalg.norm(observation['effector_translation'] -
                                   observation['effector_target_translation']))
        steps += 1
      lengths.append(steps)
      successes += int(env.get_info()['success'])
  finally:
    env.close()
  return {'move_per_step_m': float(np.median(moves)),
          'effector_lag_m': float(np.median(lags)),
          'episode_length': float(np.median(lengths)),
          'success_rate': successes / episodes}


def reference_medians(path: str) -> Dict[str, float]:
  """The same medians from recorded episodes (all of which succeeded)."""
  data = np.load(path)
  num_steps = data['num_steps']
  starts = np.concatenate([[0], np.cumsum(num_steps + 1)])
  lags = []
  for index, steps in enumerate(num_steps):
    after = slice(starts[index] + 1, starts[index] + steps + 1)
    lags.extend(np.linalg.norm(data['effector_translation'][after] -
                               data['effector_target_translation'][after],
                               axis=1))
  return {'move_per_step_m': float(np.median(
              np.linalg.norm(data['actions'], axis=1))),
          'effector_lag_m': float(np.median(lags)),
          'episode_length': float(np.median(num_steps))}


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--task', default='PUSH', choices=sorted(_TASKS))
  parser.add_argument('--episodes', type=int, default=100)
  parser.add_argument('--seed', type=int, default=0)
  parser.add_argument('--reference', help='recorded episodes (.npz) instead')
  args = parser.parse_args()
  if args.reference:
    medians = reference_medians(args.reference)
  else:
    medians = oracle_medians(args.task, args.episodes, args.seed)
  for name, value in medians.items():
    print(f'{name}: {value:.4f}')


if __name__ == '__main__':
  main()
