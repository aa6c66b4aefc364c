"""Demonstrations loaded for training, whatever serves them afterwards.

A dataset's episodes and its description (`DemonstrationInfo`: task,
windows and the normalizers' statistics), with the windows counted as both
backends (`replay`'s Reverb tables, `memory_replay`'s in-memory sampler)
serve them: one per step that is not LAST.
"""
import dataclasses
import hashlib
import json
from typing import Any, Sequence

import numpy as np
from tf_agents.trajectories import trajectory

from data_tools import demos


@dataclasses.dataclass(frozen=True)
class DemonstrationInfo:
  """What a demonstration server serves: task, windows and statistics.

  `statistics` is `DatasetStatistics.to_json()` content
  (`data_tools.dataset_statistics`): the trainer's normalizers come from it.
  """
  task: str
  history_length: int
  dataset: str
  num_episodes: int
  num_steps: int
  num_windows: int
  statistics: dict[str, Any]

  def digest(self) -> str:
    """SHA-256 of the description (statistics included), as sent."""
    return hashlib.sha256(json.dumps(
        dataclasses.asdict(self), sort_keys=True).encode()).hexdigest()

  def to_bytes(self) -> bytes:
    return json.dumps(dict(dataclasses.asdict(self),
                           digest=self.digest())).encode()

  @classmethod
  def from_bytes(cls, content: bytes) -> 'DemonstrationInfo':
    """Reads what `to_bytes` wrote.

    Raises:
      ValueError: if the content does not parse, or its digest does not
        match it (a description altered on its way or in the table).
    """
    fields = json.loads(content)
    digest = fields.pop('digest', None)
    info = cls(**fields)
    if digest != info.digest():
      raise ValueError(
          'The demonstration description does not match its digest: it was '
          'altered after the server loaded the dataset.')
    return info


def count_windows(episodes: Sequence[trajectory.Trajectory]) -> int:
  """Number of training windows (non-LAST steps) in the episodes."""
  return int(sum(np.sum(episode.step_type != 2) for episode in episodes))


def require_windows(episodes: Sequence[trajectory.Trajectory]) -> int:
  """`count_windows`, refusing demonstrations that hold none."""
  num_windows = count_windows(episodes)
  if num_windows == 0:
    raise ValueError('The demonstrations hold no training window: '
                     'every episode is empty or only a LAST step.')
  return num_windows


def load_with_info(dataset: str, task: str, data_spec: trajectory.Trajectory,
                   sequence_length: int
                   ) -> tuple[list[trajectory.Trajectory], DemonstrationInfo]:
  """A dataset's episodes (checked by `demos.load_dataset`) and description.

  Raises:
    demos.DemoFileError: if `collect` wrote the dataset for another task, or
      a check of `demos.load_dataset` fails.
  """
  demos.check_recorded_task(dataset, task)
  episodes, statistics = demos.load_dataset(dataset, data_spec)
  info = DemonstrationInfo(
      task=task, history_length=sequence_length, dataset=dataset,
      num_episodes=len(episodes),
      num_steps=int(sum(len(episode.step_type) for episode in episodes)),
      num_windows=count_windows(episodes), statistics=statistics.to_json())
  return episodes, info
