"""Tests for data_tools.collect: parallel oracle collection of demonstrations."""

import json
import os
import pathlib
import queue
import re
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import tensorflow as tf
from tf_agents.drivers import py_driver
from tf_agents.trajectories import time_step as ts
from tf_agents.utils import example_encoding_dataset

import environments
from data_tools import collect
from data_tools import collection_settings
from data_tools import console
from data_tools import dataset_statistics
from data_tools import demos
from data_tools import shard_manifest

_GOAL_TOLERANCE = 0.05  # ParticleEnv default


def test_collect_writes_only_successful_episodes_in_reference_format(
    tmp_path, capsys):
  output_dir = str(tmp_path / 'particle')
  paths = collect.collect('PARTICLE', num_episodes=10, output_dir=output_dir,
                          num_workers=2, seed=3)

  assert paths == [os.path.join(output_dir, 'PARTICLE_0.tfrecord'),
                   os.path.join(output_dir, 'PARTICLE_1.tfrecord')]
  assert sorted(os.listdir(output_dir)) == [
      'PARTICLE_0.tfrecord', 'PARTICLE_0.tfrecord.spec',
      'PARTICLE_1.tfrecord', 'PARTICLE_1.tfrecord.spec', 'collection.json',
      'manifest.json', 'statistics.json']
  manifest = shard_manifest.read_manifest(output_dir)
  assert {name: entry['episodes'] for name, entry in manifest.items()} == {
      'PARTICLE_0.tfrecord': 5, 'PARTICLE_1.tfrecord': 5}
  element = next(iter(example_encoding_dataset.load_tfrecord_dataset(
      [paths[0]], as_trajectories=True)))
  assert element.observation['pos_agent'].shape == (1, 2)
  assert element.action.shape == (1, 2)

  spec = demos.trajectory_spec_from_env(environments.make('PARTICLE'))
  per_shard = [demos.load_episodes([path], expected_spec=spec)
               for path in paths]
  assert [len(episodes) for episodes in per_shard] == [5, 5]
  episodes = per_shard[0] + per_shard[1]
  for episode in episodes:
    assert episode.step_type[0] == ts.StepType.FIRST
    assert np.all(episode.step_type[1:-1] == ts.StepType.MID)
    assert episode.step_type[-1] == ts.StepType.LAST
    assert episode.next_step_type[-1] == ts.StepType.FIRST
    # Success: reward 1 and termination on the step into LAST, with the
    # agent at the second goal.
    assert episode.reward[-2] == 1.0 and episode.discount[-2] == 0.0
    final = {k: v[-1] for k, v in episode.observation.items()}
    assert np.linalg.norm(final['pos_agent'] - final['pos_second_goal']
                         ) <= _GOAL_TOLERANCE

  with open(os.path.join(output_dir,
                         dataset_statistics.STATISTICS_FILENAME)) as f:
    saved = json.load(f)
  assert saved['num_episodes'] == 10
  assert saved['num_steps'] == sum(len(e.step_type) for e in episodes)
  stats = dataset_statistics.DatasetStatistics.load(output_dir)
  expected = dataset_statistics.DatasetStatistics.compute(episodes)
  for key in spec.observation:
    np.testing.assert_allclose(stats.observation_mean[key],
                               expected.observation_mean[key], rtol=1e-5)
    np.testing.assert_allclose(stats.observation_std[key],
                               expected.observation_std[key], rtol=1e-5)
    assert np.all(stats.observation_std[key] > 0.0)
  assert np.all(stats.action_min >= 0.0) and np.all(stats.action_max <= 1.0)
  np.testing.assert_array_equal(stats.action_min, expected.action_min)

  assert re.search(r'collect \[#{20}\] 10/10 episodes \(\d+\.\d/s, ETA 0:00\)',
                   capsys.readouterr().err)


def test_failing_worker_fails_collect_with_its_error_and_leaves_no_files(
    tmp_path):
  output_dir = str(tmp_path / 'never')
  # One step per episode: the oracle can never succeed, so the workers give
  # up; the first error stops collection while the other worker may still be
  # writing its shard.
  with pytest.raises(RuntimeError,
                     match=r'worker [01] failed(.|\n)*succeeded in only 0 of'):
    collect.collect('PARTICLE', num_episodes=2, num_workers=2,
                    output_dir=output_dir, env_kwargs={'max_steps': 1})
  assert os.listdir(output_dir) == [demos.COLLECTION_FILENAME]


def test_collect_refuses_a_directory_that_already_holds_shards(tmp_path):
  (tmp_path / 'old_0.tfrecord').write_bytes(b'')
  with pytest.raises(FileExistsError, match='old_0.tfrecord'):
    collect.collect('PARTICLE', num_episodes=1, output_dir=str(tmp_path))


def test_collect_refuses_a_directory_that_holds_a_finished_dataset(tmp_path):
  collect.collect('PARTICLE', num_episodes=2, output_dir=str(tmp_path))
  with pytest.raises(FileExistsError, match='finished dataset'):
    collect.collect('PARTICLE', num_episodes=2, output_dir=str(tmp_path))


def test_unfinished_collection_with_other_settings_is_refused(tmp_path):
  with pytest.raises(RuntimeError):  # leaves its settings, no shard
    collect.collect('PARTICLE', num_episodes=1, output_dir=str(tmp_path),
                    env_kwargs={'max_steps': 1})
  with pytest.raises(ValueError, match=r'other settings \(env_kwargs: '):
    collect.collect('PARTICLE', num_episodes=1, output_dir=str(tmp_path))


def test_run_episodes_records_what_py_driver_records():
  env = environments.make('PARTICLE', seed=7)
  oracle = environments.make_oracle('PARTICLE', env)
  driver_steps = []
  py_driver.PyDriver(env, oracle, [driver_steps.append], max_episodes=3).run(
      env.reset())

  env.seed(7)
  episodes = collect.run_episodes(env, oracle)
  ours = [step for _ in range(3) for step in next(episodes)[0]]

  assert len(ours) == len(driver_steps)
  for step, driver_step in zip(ours, driver_steps):
    tf.nest.map_structure(np.testing.assert_array_equal, step, driver_step)


def test_run_episodes_reports_success_of_each_episode():
  env = environments.make('PARTICLE', seed=11)
  episodes = collect.run_episodes(env, environments.make_oracle('PARTICLE',
                                                                env))
  for _ in range(5):
    episode, success = next(episodes)
    assert success == (episode[-2].reward == 1.0)
    assert episode[-1].step_type == ts.StepType.LAST


def test_action_noise_perturbs_the_path_but_records_the_oracle_actions():
  clean_env = environments.make('PARTICLE', seed=5)
  clean, _ = next(collect.run_episodes(
      clean_env, environments.make_oracle('PARTICLE', clean_env)))
  noisy_env = environments.make('PARTICLE', seed=5)
  noisy, _ = next(collect.run_episodes(
      noisy_env, environments.make_oracle('PARTICLE', noisy_env),
      action_noise=0.05, seed=1))

  assert not np.allclose(clean[5].observation['pos_agent'],
                         noisy[5].observation['pos_agent'])
  # The particle oracle's action is always one of the goals, exactly.
  for step in noisy[:-1]:
    goals = [step.observation['pos_first_goal'],
             step.observation['pos_second_goal']]
    assert any(np.array_equal(step.action, goal) for goal in goals)


@pytest.mark.parametrize('action_noise', [-0.1, float('nan'), float('inf')])
def test_negative_or_non_finite_action_noise_is_refused(tmp_path,
                                                        action_noise):
  with pytest.raises(ValueError, match='action_noise'):
    collect.collect('PARTICLE', num_episodes=2, output_dir=str(tmp_path),
                    action_noise=action_noise)


@pytest.mark.parametrize('task', ['NOPE', 'door-human-v0'])
def test_task_without_an_oracle_is_refused_before_any_worker_starts(
    tmp_path, monkeypatch, task):
  def no_process(*args, **kwargs):
    raise AssertionError('a worker was created')

  monkeypatch.setattr(collect.multiprocessing, 'get_context', no_process)
  with pytest.raises(ValueError, match=rf'No oracle for task {task!r}.*PUSH'):
    collect.collect(task, num_episodes=2, output_dir=str(tmp_path))
  assert not list(tmp_path.iterdir())


def test_worker_seeds_depend_only_on_seed_and_worker():
  seeds = [collect.worker_seed(0, w) for w in range(4)]
  assert len(set(seeds)) == 4
  assert collect.worker_seed(0, 2) == seeds[2]
  assert collect.worker_seed(1, 0) != seeds[0]


class _DeadProcess:
  exitcode = -9  # killed by SIGKILL before it could report


def test_worker_that_dies_silently_fails_collect_instead_of_hanging():
  with pytest.raises(RuntimeError, match='worker 0 died with exit code -9'):
    collect._wait_for_workers([_DeadProcess()], queue.Queue(),
                              console.Progress('collect', 1, 'episodes'))


def _children(pid: int) -> list[int]:
  children = []
  for stat in pathlib.Path('/proc').glob('[0-9]*/stat'):
    try:
      fields = stat.read_text().rsplit(')', 1)[1].split()
    except OSError:
      continue
    if int(fields[1]) == pid:
      children.append(int(stat.parent.name))
  return children


def _running(pid: int) -> bool:
  try:
    state = pathlib.Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1]
  except OSError:
    return False
  return state.split()[0] != 'Z'


@pytest.mark.skipif(not pathlib.Path('/proc/self/stat').exists(),
                    reason='reads processes from /proc')
def test_workers_exit_and_clean_up_when_the_collecting_process_is_killed(
    tmp_path):
  output_dir = tmp_path / 'data'
  parent = subprocess.Popen(
      [sys.executable, '-m', 'data_tools.collect', '--task=PARTICLE',
       '--num_episodes=100000', '--num_workers=2',
       f'--output_dir={output_dir}'],
      stderr=subprocess.PIPE, text=True,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'))
  watchdog = threading.Timer(120, parent.kill)  # never collect all 100000
  watchdog.start()
  try:
    for line in parent.stderr:  # the first progress line: workers are running
      if line.startswith('collect ['):
        break
    assert parent.poll() is None, 'collect ended before the test killed it'
    workers = [pid for pid in _children(parent.pid) if _running(pid)]
    assert workers
  finally:
    watchdog.cancel()
    parent.kill()
    parent.wait()
  deadline = time.monotonic() + 30
  while any(map(_running, workers)) and time.monotonic() < deadline:
    time.sleep(0.2)
  assert not any(map(_running, workers))
  assert not list(output_dir.glob('*.partial*'))


@pytest.mark.skipif(not pathlib.Path('/proc/self/stat').exists(),
                    reason='reads processes from /proc')
def test_rerun_after_a_killed_collect_writes_the_uninterrupted_dataset(
    tmp_path):
  command = [sys.executable, '-m', 'data_tools.collect', '--task=PARTICLE',
             '--num_episodes=600', '--num_workers=2', '--seed=5']
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2')
  killed_dir = tmp_path / 'killed'
  parent = subprocess.Popen(command + [f'--output_dir={killed_dir}'],
                            stderr=subprocess.PIPE, text=True, env=env)
  try:
    for line in parent.stderr:  # the first progress line: an episode in
      if line.startswith('collect ['):
        break
  finally:
    parent.kill()
    parent.wait()
  assert not (killed_dir / shard_manifest.MANIFEST_FILENAME).exists()

  subprocess.run(command + [f'--output_dir={killed_dir}'], check=True,
                 env=env, capture_output=True)
  whole_dir = tmp_path / 'whole'
  collect.collect('PARTICLE', num_episodes=600, output_dir=str(whole_dir),
                  num_workers=2, seed=5)
  assert (shard_manifest.read_manifest(str(killed_dir)) ==
          shard_manifest.read_manifest(str(whole_dir)))


def test_is_finished_only_for_the_same_settings_after_the_manifest(tmp_path):
  output_dir = str(tmp_path / 'data')
  assert not collection_settings.is_finished(output_dir, 'PARTICLE', 2)
  collect.collect('PARTICLE', num_episodes=2, output_dir=output_dir, seed=4)
  assert collection_settings.is_finished(output_dir, 'PARTICLE', 2, seed=4)
  assert not collection_settings.is_finished(output_dir, 'PARTICLE', 2, seed=5)
  assert not collection_settings.is_finished(output_dir, 'PARTICLE', 3, seed=4)
