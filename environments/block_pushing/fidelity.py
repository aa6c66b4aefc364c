"""Replays recorded PUSH episodes open loop and measures how far the block
strays from its recorded path.

The recordings (`tests/environments/block_pushing/data/
original_push_episodes.npz`) were written by the original IBC code: per
episode the first block and target poses, the actions, and the block's
position after every step (`num_steps` actions, `num_steps + 1`
observations, episodes concatenated). A simulation that moves the block as
the original's does keeps each replayed path near its recording.
"""
import dataclasses
from typing import Dict, List

import numpy as np

from environments.block_pushing import block_pushing_env

EARLY_STEPS = 15  # steps after the block first moves in the recording
_MOVED = 0.001  # m from its start: the block has been pushed


@dataclasses.dataclass
class Replay:
  """One recorded episode and its open-loop replay."""
  recorded: Dict[str, np.ndarray]  # block, target, actions, path [T + 1, 2]
  path: np.ndarray  # [T' + 1, 2] replayed block positions, T' <= T
  solved: bool  # the replay ended with the block on its target

  def departures(self) -> np.ndarray:
    """[min(T, T') + 1] distance of the replayed block from the recorded."""
    steps = min(len(self.recorded['path']), len(self.path))
    return np.linalg.norm(self.path[:steps] - self.recorded['path'][:steps],
                          axis=1)

  def early_departure(self, early_steps: int = EARLY_STEPS) -> float:
    """Largest departure up to `early_steps` after the recorded block first
    moves: the pushes as they start, before chaos can build up."""
    recorded = self.recorded['path']
    start = int(np.argmax(
        np.linalg.norm(recorded - recorded[0], axis=1) > _MOVED))
    return float(self.departures()[:start + early_steps + 1].max())


def recorded_episodes(path: str) -> List[Dict[str, np.ndarray]]:
  """The episodes of a recording, each as block, target, actions and path."""
  data = np.load(path)
  episodes = []
  action_start, observation_start = 0, 0
  for index, steps in enumerate(data['num_steps']):
    observed = slice(observation_start, observation_start + steps + 1)
    episodes.append({
        'block': data['block_start'][index],
        'target': data['target'][index],
        'actions': data['actions'][action_start:action_start + steps],
        'path': data['block_translation'][observed],
    })
    action_start += steps
    observation_start += steps + 1
  return episodes


def replay_episodes(path: str, seed: int = 0) -> List[Replay]:
  """Replays every episode of the recording at `path` from its first poses
  (`PushEnv.reset_to_layout`), stopping where the environment ends it."""
  env = block_pushing_env.PushEnv(seed=seed)
  replays = []
  try:
    for episode in recorded_episodes(path):
      time_step = env.reset_to_layout(episode['block'][None],
                                      episode['target'][None])
      block_path = [time_step.observation['block_translation']]
      for action in episode['actions']:
        time_step = env.step(action)
        block_path.append(time_step.observation['block_translation'])
        if time_step.is_last():
          break
      replays.append(Replay(episode, np.array(block_path),
                            bool(env.get_info()['success'])))
  finally:
    env.close()
  return replays


def summary(replays: List[Replay]) -> Dict[str, float]:
  """The worst early departure, the median whole-episode largest departure
  (both in metres) and how many replays ended on success."""
  return {
      'worst_early_departure_m': max(r.early_departure() for r in replays),
      'median_largest_departure_m': float(np.median(
          [r.departures().max() for r in replays])),
      'solved': sum(r.solved for r in replays),
      'episodes': len(replays),
  }
