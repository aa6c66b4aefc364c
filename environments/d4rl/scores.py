"""D4RL normalized scores: a return on a 0 (random) to 100 (expert) scale.

The reference returns are D4RL's own (`d4rl.infos.REF_MIN_SCORE` and
`REF_MAX_SCORE`, the same values its hand_manipulation_suite registers):
min is a random policy's return, max an expert's (Fu et al., 2020, D4RL:
Datasets for Deep Data-Driven Reinforcement Learning).
"""
from typing import Dict, Tuple

# Task -> (random return, expert return).
REFERENCE_RETURNS: Dict[str, Tuple[float, float]] = {
    'door-human-v0': (-56.512833, 2880.5693087298737),
    'pen-human-v0': (96.262799, 3076.8331017826877),
    'hammer-human-v0': (-274.856578, 12794.134825156867),
    'relocate-human-v0': (-6.425911, 4233.877797728884),
    'kitchen-complete-v0': (0.0, 4.0),
    'kitchen-partial-v0': (0.0, 4.0),
    'kitchen-mixed-v0': (0.0, 4.0),
}


def normalized_score(task: str, episode_return: float) -> float:
  """Returns 100 * (return - random) / (expert - random), D4RL's score.

  Raises:
    ValueError: If `task` has no reference returns; the message lists those
      that have.
  """
  if task not in REFERENCE_RETURNS:
    raise ValueError(f'No D4RL reference returns for task {task!r}; known: '
                     f'{", ".join(sorted(REFERENCE_RETURNS))}.')
  random_return, expert_return = REFERENCE_RETURNS[task]
  return 100.0 * (episode_return - random_return) / (
      expert_return - random_return)
