"""A diverged training stops before saving; a damaged checkpoint is set aside."""
import glob
import json
import os

import pytest
import tensorflow as tf

from ibc_agents.train import checkpoints

GIN_FILE = 'gin_configs/particle/mse.gin'
_SHORT = ('train_eval.eval_episodes = 2', 'train_eval.log_interval = 10',
          'train_eval.checkpoint_interval = 10',
          'train_eval.eval_plot_fn = None')


def _train(train_easy_particle, root_dir, num_iterations, *bindings):
  return train_easy_particle(
      GIN_FILE, str(root_dir), *_SHORT,
      f'train_eval.num_iterations = {num_iterations}',
      f'train_eval.eval_interval = {num_iterations}', *bindings)


def _checkpoint_steps(root_dir) -> list[int]:
  state = tf.train.get_checkpoint_state(checkpoints.checkpoint_dir(
      str(root_dir)))
  return [int(path.rsplit('-', 1)[1])
          for path in state.all_model_checkpoint_paths]


def test_diverged_training_stops_naming_the_step_and_last_good_checkpoint(
    train_easy_particle, tmp_path):
  _train(train_easy_particle, tmp_path, 20)
  with pytest.raises(checkpoints.TrainingDiverged,
                     match=r'Training diverged: the (loss|weights) .* at step '
                     r'30\. Nothing was checkpointed or exported from it; the '
                     r'last good checkpoint is step 20'):
    _train(train_easy_particle, tmp_path, 60,
           'train_eval.learning_rate = 1e30')
  assert _checkpoint_steps(tmp_path) == [10, 20]
  with open(tmp_path / 'results.json') as f:
    assert json.load(f)['train_steps'] == 20  # the export of step 20 stays


def test_unreadable_newest_checkpoint_is_set_aside_and_the_run_resumes(
    train_easy_particle, tmp_path, capsys):
  _train(train_easy_particle, tmp_path, 20)
  newest = os.path.join(checkpoints.checkpoint_dir(str(tmp_path)), 'ckpt-20')
  data_file = glob.glob(newest + '.data-*')[0]
  with open(data_file, 'r+b') as f:
    f.truncate(os.path.getsize(data_file) // 2)
  capsys.readouterr()
  results = _train(train_easy_particle, tmp_path, 30)
  out = capsys.readouterr().out
  assert 'step 20/30' in out and 'step 10/30' not in out  # resumed at 10
  assert results['train_steps'] == 30
  assert glob.glob(newest + checkpoints.DAMAGED_SUFFIX + '.data-*')
  assert _checkpoint_steps(tmp_path)[-2:] == [20, 30]  # 20 trained again
  tf.train.load_checkpoint(newest).get_variable_to_shape_map()
