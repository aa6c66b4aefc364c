"""Oracle collection on block pushing writes shards that load back."""
import numpy as np
from tf_agents.trajectories import time_step as ts

import environments
from data_tools import demos


def test_collect_writes_push_shards_that_load_episodes_reads(push_demos):
  paths = demos.find_shards(push_demos.directory)

  env = environments.make('PUSH')
  try:
    spec = demos.trajectory_spec_from_env(env)
    tolerance = env.success_tolerance
  finally:
    env.close()
  episodes = demos.load_episodes(paths, expected_spec=spec)
  assert len(paths) == 2
  assert len(episodes) == push_demos.num_episodes
  for episode in episodes:
    assert episode.step_type[0] == ts.StepType.FIRST
    assert episode.step_type[-1] == ts.StepType.LAST
    assert episode.reward[-2] == 1.0 and episode.discount[-2] == 0.0
    assert episode.observation['block_translation'].shape[1:] == (2,)
    assert episode.observation['block_orientation'].shape[1:] == (1,)
    final = {key: value[-1] for key, value in episode.observation.items()}
    assert np.linalg.norm(final['block_translation'] -
                          final['target_translation']) < tolerance
  stats = demos.DatasetStatistics.load(push_demos.directory)
  assert stats.num_episodes == push_demos.num_episodes
  assert np.all(stats.action_max <= env.action_spec().maximum + 1e-7)
