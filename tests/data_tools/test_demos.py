"""Tests for data_tools.demos on the reference implementation's published data."""

import json
import logging
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import time_step as ts
from tf_agents.trajectories import trajectory
from tf_agents.utils import example_encoding_dataset

from data_tools import dataset_statistics
from data_tools import demos
from data_tools import shard_manifest
import environments

ANCHORS = os.environ.get(
    'IBC_ANCHOR_SAMPLES',
    os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..',
                 'shared', 'data', 'anchor_samples'))
DOOR = os.path.join(ANCHORS, 'door-human-v0', 'door-human-v0_0.tfrecord')
KITCHEN = os.path.join(ANCHORS, 'kitchen-complete-v0',
                       'kitchen-complete-v0_0.tfrecord')


def _copy_shard(src: str, dst_dir, name: str = 'demo_0.tfrecord') -> str:
  dst = os.path.join(str(dst_dir), name)
  shutil.copyfile(src, dst)
  shutil.copyfile(src + '.spec', dst + '.spec')
  return dst


def _steps(episode: trajectory.Trajectory) -> list[trajectory.Trajectory]:
  """Unstacks an episode of [L, ...] arrays into L unbatched steps."""
  return [tf.nest.map_structure(lambda x, i=i: x[i], episode)
          for i in range(len(episode.step_type))]


def _record_offsets(path: str) -> list[int]:
  """Returns the byte offset where each TFRecord record starts."""
  data = open(path, 'rb').read()
  offsets, offset = [], 0
  while offset < len(data):
    offsets.append(offset)
    offset += 16 + int.from_bytes(data[offset:offset + 8], 'little')
  return offsets


def _dict_observation_spec() -> trajectory.Trajectory:
  time_step_spec = ts.time_step_spec({
      'pos': tensor_spec.TensorSpec([2], tf.float32, 'pos'),
      'vel': tensor_spec.TensorSpec([2], tf.float32, 'vel'),
  })
  return trajectory.Trajectory(
      step_type=time_step_spec.step_type,
      observation=time_step_spec.observation,
      action=tensor_spec.BoundedTensorSpec([2], tf.float32, 0.0, 1.0),
      policy_info=(),
      next_step_type=time_step_spec.step_type,
      reward=time_step_spec.reward,
      discount=time_step_spec.discount)


def _random_episode(rng: np.random.Generator,
                    length: int) -> list[trajectory.Trajectory]:
  step_types = [ts.StepType.FIRST] + [ts.StepType.MID] * (length - 2) + [
      ts.StepType.LAST]
  next_step_types = step_types[1:] + [ts.StepType.FIRST]
  return [
      trajectory.Trajectory(
          step_type=np.int32(step_type),
          observation={'pos': rng.uniform(size=2).astype(np.float32),
                       'vel': rng.normal(size=2).astype(np.float32)},
          action=rng.uniform(size=2).astype(np.float32),
          policy_info=(),
          next_step_type=np.int32(next_step_type),
          reward=np.float32(0.0),
          discount=np.float32(1.0))
      for step_type, next_step_type in zip(step_types, next_step_types)
  ]


@pytest.mark.parametrize('path,num_episodes,num_steps,obs_dim,action_dim', [
    (DOOR, 11, 1700, 39, 28),
    (KITCHEN, 4, 755, 60, 9),
])
def test_load_episodes_reads_reference_data_into_first_to_last_episodes(
    path, num_episodes, num_steps, obs_dim, action_dim):
  episodes = demos.load_episodes([path])
  assert len(episodes) == num_episodes
  assert sum(len(e.step_type) for e in episodes) == num_steps
  for episode in episodes:
    length = len(episode.step_type)
    assert episode.observation.shape == (length, obs_dim)
    assert episode.action.shape == (length, action_dim)
    assert episode.step_type[0] == ts.StepType.FIRST
    assert np.all(episode.step_type[1:-1] == ts.StepType.MID)
    assert episode.step_type[-1] == ts.StepType.LAST
    assert episode.next_step_type[-1] == ts.StepType.FIRST


def test_rewriting_reference_episodes_reproduces_its_records_and_spec(
    tmp_path):
  spec = example_encoding_dataset.parse_encoded_spec_from_file(
      KITCHEN + '.spec')
  out = str(tmp_path / 'kitchen_0.tfrecord')
  episodes = demos.load_episodes([KITCHEN])
  assert demos.write_episodes(out, spec, map(_steps, episodes)) == 4

  with open(out + '.spec', 'rb') as f, open(KITCHEN + '.spec', 'rb') as g:
    assert f.read() == g.read()
  ours = [tf.train.Example.FromString(r.numpy())
          for r in tf.data.TFRecordDataset(out)]
  reference = [tf.train.Example.FromString(r.numpy())
               for r in tf.data.TFRecordDataset(KITCHEN)]
  assert ours == reference


def test_written_dict_observation_episodes_load_back_batched_and_split(
    tmp_path):
  rng = np.random.default_rng(0)
  spec = _dict_observation_spec()
  episodes = [_random_episode(rng, length) for length in (5, 3, 7)]
  out = str(tmp_path / 'particle_0.tfrecord')
  demos.write_episodes(out, spec, episodes)

  elements = list(example_encoding_dataset.load_tfrecord_dataset(
      [out], as_trajectories=True).as_numpy_iterator())
  assert len(elements) == 15
  assert elements[0].observation['pos'].shape == (1, 2)
  assert elements[0].step_type.shape == (1,)

  loaded = demos.load_episodes([out], expected_spec=spec)
  assert [len(e.step_type) for e in loaded] == [5, 3, 7]
  np.testing.assert_array_equal(
      loaded[2].observation['vel'],
      np.stack([step.observation['vel'] for step in episodes[2]]))
  np.testing.assert_array_equal(
      loaded[1].action, np.stack([step.action for step in episodes[1]]))


@pytest.mark.parametrize('field, key, value', [
    ('action', None, np.nan), ('action', None, -np.inf),
    ('observation', 'vel', np.nan)])
def test_non_finite_value_fails_naming_file_field_and_step(tmp_path, field,
                                                           key, value):
  rng = np.random.default_rng(0)
  episodes = [_random_episode(rng, length) for length in (5, 4)]
  bad_step = episodes[1][2]
  if key is None:
    bad_step.action[1] = value
  else:
    bad_step.observation[key][0] = value
  out = str(tmp_path / 'bad_0.tfrecord')
  demos.write_episodes(out, _dict_observation_spec(), episodes)
  name = field if key is None else f'{field}/{key}'
  with pytest.raises(demos.DemoFileError,
                     match=rf'{out}.*non-finite.*{name} at step 7 '
                     r'\(episode 1, its step 2\)'):
    demos.load_episodes([out])


def test_writer_rejects_an_episode_that_does_not_end_in_last(tmp_path):
  episode = _random_episode(np.random.default_rng(0), 4)[:-1]
  with demos.EpisodeWriter(str(tmp_path / 'x.tfrecord'),
                           _dict_observation_spec()) as writer:
    with pytest.raises(ValueError, match='FIRST ... LAST'):
      writer.write(episode)


def test_missing_shard_fails_naming_the_file(tmp_path):
  path = str(tmp_path / 'missing_0.tfrecord')
  with pytest.raises(demos.DemoFileError, match='missing_0.tfrecord'):
    demos.load_episodes([path])


def test_missing_spec_fails_naming_the_shard(tmp_path):
  path = _copy_shard(DOOR, tmp_path)
  os.remove(path + '.spec')
  with pytest.raises(demos.DemoFileError,
                     match=r'demo_0.tfrecord has no spec file'):
    demos.load_episodes([path])


def test_garbage_spec_fails_naming_the_spec_file(tmp_path):
  path = _copy_shard(DOOR, tmp_path)
  with open(path + '.spec', 'wb') as f:
    f.write(b'not a spec')
  with pytest.raises(demos.DemoFileError,
                     match=r'spec file .*demo_0.tfrecord.spec \(\w+.*\): '
                     r'expected a serialized TF-Agents trajectory spec'):
    demos.load_episodes([path])


def test_empty_shard_fails_naming_the_file(tmp_path):
  path = str(tmp_path / 'empty_0.tfrecord')
  demos.write_episodes(path, _dict_observation_spec(), [])
  assert os.path.exists(path + '.spec')
  with pytest.raises(demos.DemoFileError, match=r'empty_0.tfrecord is empty'):
    demos.load_episodes([path])


@pytest.mark.parametrize('cut_into_record,cut_bytes', [
    ('data', 200),  # inside the observation floats of a middle record
    ('header', 5),  # inside the length header, which TF reads as a clean EOF
    ('footer', -2),  # inside the data CRC at the end of the record
])
def test_truncated_shard_fails_naming_the_file(tmp_path, cut_into_record,
                                               cut_bytes):
  path = _copy_shard(KITCHEN, tmp_path)
  offsets = _record_offsets(path)
  record = len(offsets) // 2
  cut = (offsets[record] + cut_bytes if cut_bytes > 0 else
         offsets[record + 1] + cut_bytes)
  with open(path, 'r+b') as f:
    f.truncate(cut)
  with pytest.raises(demos.DemoFileError,
                     match=r'demo_0.tfrecord is truncated'):
    demos.load_episodes([path])


def test_corrupt_record_fails_naming_the_file(tmp_path):
  path = _copy_shard(DOOR, tmp_path)
  with open(path, 'r+b') as f:
    f.seek(_record_offsets(path)[100] + 100)
    f.write(b'\xff\xff\xff\xff')
  with pytest.raises(demos.DemoFileError, match=r'demo_0.tfrecord is corrupt'):
    demos.load_episodes([path])


def test_spec_mismatch_fails_naming_file_and_both_specs():
  kitchen_spec = example_encoding_dataset.parse_encoded_spec_from_file(
      KITCHEN + '.spec')
  with pytest.raises(
      demos.DemoFileError,
      match=r'door-human-v0_0.tfrecord does not match the environment: its '
      r'observation spec is float32\[39\], the environment expects '
      r'float32\[60\]'):
    demos.load_episodes([DOOR], expected_spec=kitchen_spec)


def test_dict_spec_mismatch_is_detected_against_flat_data():
  with pytest.raises(demos.DemoFileError, match=r"'pos': 'float32\[2\]'"):
    demos.load_episodes([DOOR], expected_spec=_dict_observation_spec())


def test_unfinished_last_episode_is_dropped_with_a_warning(tmp_path, caplog):
  path = str(tmp_path / 'partial_0.tfrecord')
  spec = example_encoding_dataset.parse_encoded_spec_from_file(
      KITCHEN + '.spec')
  episodes = demos.load_episodes([KITCHEN])
  observer = example_encoding_dataset.TFRecordObserver(path, spec,
                                                       py_mode=True)
  for step in _steps(episodes[0]) + _steps(episodes[1])[:10]:
    observer(step)
  observer.close()
  with caplog.at_level(logging.WARNING):
    loaded = demos.load_episodes([path])
  assert len(loaded) == 1
  np.testing.assert_array_equal(loaded[0].action, episodes[0].action)
  assert 'partial_0.tfrecord' in caplog.text
  assert '10 steps' in caplog.text


def test_shard_without_any_complete_episode_fails(tmp_path):
  path = str(tmp_path / 'nolast_0.tfrecord')
  spec = example_encoding_dataset.parse_encoded_spec_from_file(
      KITCHEN + '.spec')
  observer = example_encoding_dataset.TFRecordObserver(path, spec,
                                                       py_mode=True)
  for step in _steps(demos.load_episodes([KITCHEN])[0])[:20]:
    observer(step)
  observer.close()
  with pytest.raises(demos.DemoFileError,
                     match=r'nolast_0.tfrecord has 20 steps but no complete'):
    demos.load_episodes([path])


def test_statistics_equal_numpy_over_all_steps_and_survive_json(tmp_path):
  episodes = demos.load_episodes([DOOR])
  stats = dataset_statistics.DatasetStatistics.compute(episodes, [DOOR])
  observations = np.concatenate([e.observation for e in episodes])
  actions = np.concatenate([e.action for e in episodes])
  np.testing.assert_allclose(stats.observation_mean, observations.mean(0),
                             rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(stats.observation_std, observations.std(0),
                             rtol=1e-5, atol=1e-6)
  np.testing.assert_array_equal(stats.action_min, actions.min(0))
  np.testing.assert_array_equal(stats.action_max, actions.max(0))
  assert (stats.num_episodes, stats.num_steps) == (11, 1700)
  assert stats.shards == {'door-human-v0_0.tfrecord':
                          shard_manifest.shard_checksum(DOOR)}

  stats.save(str(tmp_path))
  loaded = dataset_statistics.DatasetStatistics.load(str(tmp_path))
  np.testing.assert_array_equal(loaded.observation_mean, stats.observation_mean)
  np.testing.assert_array_equal(loaded.observation_std, stats.observation_std)
  np.testing.assert_array_equal(loaded.action_max, stats.action_max)
  assert loaded.shards == stats.shards


def test_dict_observation_statistics_keep_the_observation_nest(tmp_path):
  rng = np.random.default_rng(1)
  path = str(tmp_path / 'particle_0.tfrecord')
  demos.write_episodes(path, _dict_observation_spec(),
                       [_random_episode(rng, 6) for _ in range(4)])
  stats = dataset_statistics.DatasetStatistics.compute(
      demos.load_episodes([path]))
  stats.save(str(tmp_path))
  with open(tmp_path / dataset_statistics.STATISTICS_FILENAME) as f:
    content = json.load(f)
  assert set(content['observation']) == {'pos', 'vel'}
  assert set(content['observation']['pos']) == {'mean', 'std'}

  loaded = dataset_statistics.DatasetStatistics.load(str(tmp_path))
  assert set(loaded.observation_mean) == {'pos', 'vel'}
  np.testing.assert_array_equal(loaded.observation_std['vel'],
                                stats.observation_std['vel'])
  assert loaded.observation_mean['pos'].shape == (2,)
  assert (loaded.num_episodes, loaded.num_steps) == (4, 24)


def test_load_or_compute_statistics_saves_once_then_reuses(tmp_path,
                                                          monkeypatch):
  _copy_shard(DOOR, tmp_path, 'door_0.tfrecord')
  stats_path = tmp_path / dataset_statistics.STATISTICS_FILENAME
  computed = demos.load_or_compute_statistics(str(tmp_path))
  assert stats_path.exists()
  assert computed.num_steps == 1700

  def fail(*unused_args, **unused_kwargs):
    raise AssertionError('statistics were recomputed')

  monkeypatch.setattr(demos, 'load_episodes', fail)
  reused = demos.load_or_compute_statistics(str(tmp_path))
  np.testing.assert_array_equal(reused.observation_mean,
                                computed.observation_mean)


def test_statistics_of_a_shard_subset_are_computed_but_not_saved(tmp_path):
  door = _copy_shard(DOOR, tmp_path, 'door_0.tfrecord')
  _copy_shard(DOOR, tmp_path, 'door_1.tfrecord')
  stats = demos.load_or_compute_statistics([door])
  assert stats.num_episodes == 11
  assert not (tmp_path / dataset_statistics.STATISTICS_FILENAME).exists()

  both = demos.load_or_compute_statistics(str(tmp_path))
  assert both.num_episodes == 22
  assert sorted(both.shards) == ['door_0.tfrecord', 'door_1.tfrecord']
  assert (tmp_path / dataset_statistics.STATISTICS_FILENAME).exists()


def test_statistics_of_an_unwritable_dataset_are_computed_anyway(
    tmp_path, monkeypatch):
  _copy_shard(DOOR, tmp_path, 'door_0.tfrecord')

  def read_only(*unused_args, **unused_kwargs):
    raise PermissionError('read-only file system')

  monkeypatch.setattr(dataset_statistics.DatasetStatistics, 'save', read_only)
  stats = demos.load_or_compute_statistics(str(tmp_path))
  assert stats.num_steps == 1700
  assert not (tmp_path / dataset_statistics.STATISTICS_FILENAME).exists()


def test_dataset_dir_without_shards_fails_naming_it(tmp_path):
  with pytest.raises(demos.DemoFileError, match=str(tmp_path)):
    demos.load_or_compute_statistics(str(tmp_path))


def test_door_data_fails_against_the_particle_environment_spec():
  spec = demos.trajectory_spec_from_env(environments.make('PARTICLE'))
  with pytest.raises(demos.DemoFileError,
                     match=r'door-human-v0_0.tfrecord does not match'):
    demos.load_episodes([DOOR], expected_spec=spec)


def _image_spec() -> trajectory.Trajectory:
  """A data spec with an image [4, 5, 3] uint8 beside a position [2]."""
  spec = _dict_observation_spec()
  return spec._replace(observation={
      'pos': spec.observation['pos'],
      'rgb': tensor_spec.TensorSpec([4, 5, 3], tf.uint8, 'rgb')})


def _image_episode(rng: np.random.Generator,
                   length: int) -> list[trajectory.Trajectory]:
  steps = _random_episode(rng, length)
  return [step._replace(observation={
      'pos': step.observation['pos'],
      'rgb': rng.integers(0, 256, (4, 5, 3), dtype=np.uint8)})
          for step in steps]


def test_image_observations_load_back_as_uint8_and_skip_statistics(tmp_path):
  rng = np.random.default_rng(2)
  episodes = [_image_episode(rng, 5) for _ in range(3)]
  path = str(tmp_path / 'pixels_0.tfrecord')
  demos.write_episodes(path, _image_spec(), episodes)
  loaded = demos.load_episodes([path], expected_spec=_image_spec())
  assert loaded[1].observation['rgb'].dtype == np.uint8
  np.testing.assert_array_equal(
      loaded[1].observation['rgb'],
      np.stack([step.observation['rgb'] for step in episodes[1]]))

  stats = dataset_statistics.DatasetStatistics.compute(loaded, [path])
  assert stats.observation_mean['rgb'] is None
  assert stats.observation_std['rgb'] is None
  stats.save(str(tmp_path))
  with open(tmp_path / dataset_statistics.STATISTICS_FILENAME) as f:
    assert json.load(f)['observation']['rgb'] is None
  reloaded = dataset_statistics.DatasetStatistics.load(str(tmp_path))
  assert reloaded.observation_mean['rgb'] is None
  np.testing.assert_array_equal(reloaded.observation_mean['pos'],
                                stats.observation_mean['pos'])


def test_action_far_outside_the_spec_fails_naming_file_and_step(tmp_path):
  rng = np.random.default_rng(0)
  episodes = [_random_episode(rng, length) for length in (5, 4)]
  episodes[0][3].action[0] = 1e30
  out = str(tmp_path / 'far_0.tfrecord')
  spec = _dict_observation_spec()
  demos.write_episodes(out, spec, episodes)
  demos.load_episodes([out])  # without a task's spec: no bounds to check
  with pytest.raises(demos.DemoFileError,
                     match=rf'{out}.*outside the task.s bounds.*at step 3'):
    demos.load_episodes([out], expected_spec=spec)


def test_action_just_past_the_bound_by_rounding_is_accepted(tmp_path):
  episodes = [_random_episode(np.random.default_rng(0), 5)]
  episodes[0][1].action[1] = 1.0 + 0.5 * demos.ACTION_BOUNDS_TOLERANCE
  out = str(tmp_path / 'edge_0.tfrecord')
  demos.write_episodes(out, _dict_observation_spec(), episodes)
  assert len(demos.load_episodes([out],
                                 expected_spec=_dict_observation_spec())) == 1


def _finished_dataset(directory, episodes_per_shard=(3, 2)) -> list[str]:
  """Shards of random episodes, with manifest and statistics, as collect."""
  rng = np.random.default_rng(4)
  paths = []
  for shard, num_episodes in enumerate(episodes_per_shard):
    path = os.path.join(str(directory), f'demo_{shard}.tfrecord')
    demos.write_episodes(path, _dict_observation_spec(),
                         [_random_episode(rng, 6) for _ in range(num_episodes)])
    paths.append(path)
  demos.finish_dataset(str(directory), paths)
  return paths


def test_manifest_records_episodes_steps_bytes_and_checksum(tmp_path):
  paths = _finished_dataset(tmp_path)
  manifest = shard_manifest.read_manifest(str(tmp_path))
  assert manifest['demo_0.tfrecord'] == dict(
      episodes=3, steps=18, bytes=os.path.getsize(paths[0]),
      sha256=shard_manifest.shard_checksum(paths[0]))
  episodes, stats = demos.load_dataset(str(tmp_path))
  assert (len(episodes), stats.num_episodes, stats.num_steps) == (5, 5, 30)


@pytest.mark.parametrize('boundary', ['record', 'episode'])
def test_shard_cut_on_a_boundary_fails_against_its_manifest(tmp_path,
                                                            boundary):
  paths = _finished_dataset(tmp_path)
  offsets = _record_offsets(paths[0])  # episodes of 6 steps
  cut = offsets[15] if boundary == 'record' else offsets[12]
  with open(paths[0], 'r+b') as f:
    f.truncate(cut)
  manifest = tmp_path / shard_manifest.MANIFEST_FILENAME
  os.rename(manifest, tmp_path / 'away.json')
  assert len(demos.load_episodes([paths[0]])) == 2  # TFRecord sees no error
  os.rename(tmp_path / 'away.json', manifest)
  with pytest.raises(demos.DemoFileError,
                     match=rf'{paths[0]} is truncated: it has {cut} bytes, '
                     r'.*manifest.json records \d+ \(3 episodes, 18 steps\)'):
    demos.load_dataset(str(tmp_path))


def test_shard_listed_in_the_manifest_but_missing_fails_naming_it(tmp_path):
  paths = _finished_dataset(tmp_path)
  os.remove(paths[1])
  with pytest.raises(demos.DemoFileError,
                     match=rf'{paths[1]} is missing: .*manifest.json lists'):
    demos.load_dataset(str(tmp_path))


def test_shard_changed_in_place_fails_its_checksum(tmp_path):
  paths = _finished_dataset(tmp_path)
  with open(paths[0], 'r+b') as f:  # same size, other bytes
    data = bytearray(f.read())
    data[200] ^= 0xff  # a float inside the first record
    f.seek(0)
    f.write(data)
  with pytest.raises(demos.DemoFileError,
                     match=rf'{paths[0]} and .*manifest.json disagree: the '
                     r'SHA-256 .* the shard or the manifest was changed'):
    demos.load_episodes([paths[0]])


def test_data_without_a_manifest_loads_and_counts_what_it_holds(tmp_path):
  paths = _finished_dataset(tmp_path)
  os.remove(tmp_path / shard_manifest.MANIFEST_FILENAME)
  with open(paths[0], 'r+b') as f:
    f.truncate(_record_offsets(paths[0])[12])
  episodes, stats = demos.load_dataset(str(tmp_path))
  assert (len(episodes), stats.num_episodes, stats.num_steps) == (4, 4, 24)


def test_statistics_of_changed_shards_are_recomputed_not_reused(tmp_path):
  paths = _finished_dataset(tmp_path)
  os.remove(tmp_path / shard_manifest.MANIFEST_FILENAME)
  before = dataset_statistics.DatasetStatistics.load(str(tmp_path))
  rng = np.random.default_rng(9)  # the same name, other episodes
  demos.write_episodes(paths[0], _dict_observation_spec(),
                       [_random_episode(rng, 6) for _ in range(3)])
  after = demos.load_or_compute_statistics(str(tmp_path))
  assert after.num_episodes == before.num_episodes
  assert not np.array_equal(after.action_min, before.action_min)
  assert dataset_statistics.DatasetStatistics.load(
      str(tmp_path)).shards == after.shards


def test_unreadable_statistics_fail_naming_the_file(tmp_path):
  _finished_dataset(tmp_path)
  stats_path = tmp_path / dataset_statistics.STATISTICS_FILENAME
  stats_path.write_text(stats_path.read_text()[:100])
  with pytest.raises(demos.DemoFileError,
                     match=rf'{stats_path} \(JSONDecodeError.*Delete it'):
    demos.load_dataset(str(tmp_path))


def test_unreadable_manifest_fails_naming_the_file(tmp_path):
  _finished_dataset(tmp_path)
  manifest_path = tmp_path / shard_manifest.MANIFEST_FILENAME
  manifest_path.write_text('{"shards": {"demo_0.tfrecord": {}}}')
  with pytest.raises(demos.DemoFileError,
                     match=rf'manifest {manifest_path} \(KeyError'):
    demos.load_dataset(str(tmp_path))


def _edit_json(path, edit) -> None:
  with open(path) as f:
    content = json.load(f)
  edit(content)
  with open(path, 'w') as f:
    json.dump(content, f)


@pytest.mark.parametrize('edit, message', [
    (lambda s: s['observation']['pos'].update(std=[float('nan'), 1.0]),
     r'observation std pos holds a non-finite value \(\[nan, 1.0\]\)'),
    (lambda s: s['action'].update(min=[5.0, 5.0]),
     r'action min \[5.0, 5.0\] exceeds action max'),
    (lambda s: s['action'].update(max=[float('inf'), 1.0]),
     r'action max holds a non-finite value'),
])
def test_unusable_statistics_with_intact_checksums_fail_naming_the_value(
    tmp_path, edit, message):
  _finished_dataset(tmp_path)
  _edit_json(tmp_path / dataset_statistics.STATISTICS_FILENAME, edit)
  with pytest.raises(demos.DemoFileError,
                     match=r'The dataset statistics .*statistics.json are '
                     rf'unusable: {message}'):
    demos.load_dataset(str(tmp_path))


def test_zero_action_range_is_usable_statistics(tmp_path):
  _finished_dataset(tmp_path)
  _edit_json(tmp_path / dataset_statistics.STATISTICS_FILENAME,
             lambda s: s['action'].update(max=s['action']['min']))
  _, statistics = demos.load_dataset(str(tmp_path))
  np.testing.assert_array_equal(statistics.action_min, statistics.action_max)


def test_manifest_whose_counts_disagree_with_its_shards_fails(tmp_path):
  paths = _finished_dataset(tmp_path)
  _edit_json(tmp_path / shard_manifest.MANIFEST_FILENAME,
             lambda m: m['shards']['demo_0.tfrecord'].update(episodes=4))
  with pytest.raises(demos.DemoFileError,
                     match=rf'{paths[0]} holds 3 episodes of 18 steps in all, '
                     r'but .*manifest.json records 4 episodes of 18 steps'):
    demos.load_dataset(str(tmp_path))


def test_dataset_collected_for_another_task_is_refused(tmp_path):
  _finished_dataset(tmp_path)
  (tmp_path / demos.COLLECTION_FILENAME).write_text('{"task": "PUSH"}')
  demos.check_recorded_task(str(tmp_path), 'PUSH')
  with pytest.raises(demos.DemoFileError,
                     match=r'holds demonstrations of task PUSH .*, not of '
                     'REACH'):
    demos.check_recorded_task(str(tmp_path), 'REACH')
