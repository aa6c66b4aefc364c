"""The real D4RL sample shards train the library's agents."""
import json
import os
import shutil

import gin
import numpy as np
import pytest
import tensorflow as tf
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import time_step as ts

from data_tools import d4rl_convert
from data_tools import dataset_statistics
from data_tools import demos
from data_tools import replay
from environments.d4rl import scores
from ibc_agents import ibc_agent
from ibc_agents import normalization
from ibc_agents.train import train_eval
from ibc_agents.networks import mlp_ebm

HISTORY = 1


def _shard(anchor_dir, task: str) -> str:
  return str(anchor_dir / task / f'{task}_0.tfrecord')


@pytest.mark.parametrize('task', ['door-human-v0', 'kitchen-complete-v0'])
def test_ibc_agent_trains_on_the_sample(anchor_dir, task):
  tf.random.set_seed(0)
  episodes = demos.load_episodes([_shard(anchor_dir, task)])
  stats = dataset_statistics.DatasetStatistics.compute(episodes)
  # Both tasks act in [-1, 1]; the shards' specs carry no bounds.
  action_spec = tensor_spec.BoundedTensorSpec(
      episodes[0].action.shape[1:], tf.float32, -1.0, 1.0)
  data_spec = d4rl_convert.trajectory_spec(
      episodes[0].observation.shape[1:], action_spec.shape)._replace(
          action=action_spec)
  time_step_spec = ts.time_step_spec(tensor_spec.add_outer_dims_nest(
      data_spec.observation, (HISTORY,)))
  agent = ibc_agent.ImplicitBCAgent(
      time_step_spec, action_spec,
      mlp_ebm.MLPEBM(time_step_spec.observation, action_spec, width=32,
                     depth=1),
      tf.keras.optimizers.Adam(1e-3), num_counter_examples=4,
      observation_normalizer=normalization.ObservationNormalizer(
          stats.observation_mean, stats.observation_std),
      action_normalizer=normalization.ActionNormalizer(
          action_spec, stats.action_min, stats.action_max),
      training_data_spec=data_spec)

  with replay.DemonstrationReplay(episodes, data_spec, HISTORY) as demo_replay:
    batches = iter(demo_replay.as_dataset(batch_size=16))
    agent.train(next(batches).data)  # builds the network's weights
    weights = [w.numpy() for w in agent.cloning_network.trainable_weights]
    losses = [float(agent.train(next(batches).data).loss) for _ in range(2)]

  assert np.all(np.isfinite(losses))
  assert any(not np.allclose(before, after.numpy()) for before, after in zip(
      weights, agent.cloning_network.trainable_weights))


def test_train_eval_on_door_reports_the_normalized_score(anchor_dir,
                                                         tmp_path):
  pytest.importorskip(
      'gymnasium_robotics',
      reason='evaluating on door needs the d4rl extra: pip install .[d4rl]')
  dataset = tmp_path / 'door'
  dataset.mkdir()
  for name in ('door-human-v0_0.tfrecord', 'door-human-v0_0.tfrecord.spec'):
    shutil.copyfile(anchor_dir / 'door-human-v0' / name, dataset / name)
  root_dir = str(tmp_path / 'run')
  gin.clear_config()
  try:
    gin.parse_config_files_and_bindings(['gin_configs/d4rl/mse.gin'], [
        'train_eval.num_iterations = 2', 'train_eval.eval_episodes = 2',
        'train_eval.batch_size = 16', 'MLPMSE.width = 32', 'MLPMSE.depth = 1'])
    results = train_eval.train_eval(root_dir=root_dir, dataset=str(dataset))
  finally:
    gin.clear_config()

  assert results['train_steps'] == 2 and results['avg_episode_length'] == 200
  # Normalization is affine, so the mean score is the score of the mean.
  assert results['normalized_score_mean'] == pytest.approx(
      scores.normalized_score('door-human-v0', results['avg_return']))
  assert results['normalized_score_std'] >= 0.0
  with open(os.path.join(root_dir, 'results.json')) as f:
    assert 'normalized_score_mean' in json.load(f)
