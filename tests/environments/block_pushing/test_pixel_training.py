"""A short IBC run from pixels: `python -m ibc_agents.train` on PUSH_PIXELS.

The pixel DFO configuration, shrunk (32 x 24 images, a small encoder and
head, few samples), trains for a few dozen steps on two demonstrations. Its
InfoNCE loss must fall and the exported SavedModel must act in the task.
"""
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from tf_agents.environments import wrappers
from tf_agents.policies import py_tf_eager_policy

import environments
from ibc_agents.train import train_eval

REPO = pathlib.Path(__file__).resolve().parents[3]
GIN_FILE = 'gin_configs/pushing_pixels/ibc_dfo.gin'
NUM_ITERATIONS = 120
TINY_BINDINGS = [
    'PixelEBM.width = 32',
    'PixelEBM.depth = 1',
    'ConvMaxPoolTrunk.filters = (8, 16)',
    'ImplicitBCAgent.num_counter_examples = 16',
    'IbcPolicy.num_action_samples = 64',
    'train_eval.batch_size = 16',
    'train_eval.learning_rate = 3e-3',
    'train_eval.learning_rate_decay = 1.0',  # constant over the short run
    f'train_eval.num_iterations = {NUM_ITERATIONS}',
    f'train_eval.eval_interval = {NUM_ITERATIONS}',
    f'train_eval.log_interval = {NUM_ITERATIONS}',
    'train_eval.eval_episodes = 1',
    'train_eval.summary_interval = 1',
    'train_eval.eval_plot_fn = None',
    'train_eval.eval_video_fn = None',
]


@pytest.fixture(scope='module')
def run_dir(pixel_demos, tmp_path_factory) -> str:
  root_dir = str(tmp_path_factory.mktemp('pixel_run'))
  bindings = list(pixel_demos.gin_bindings) + TINY_BINDINGS
  completed = subprocess.run(
      [sys.executable, '-m', 'ibc_agents.train', f'--gin_file={GIN_FILE}',
       f'--dataset={pixel_demos.directory}', f'--root_dir={root_dir}'] +
      [f'--gin_bindings={binding}' for binding in bindings],
      cwd=REPO, capture_output=True, text=True, timeout=600)
  assert completed.returncode == 0, completed.stderr[-3000:]
  assert 'success_rate=' in completed.stdout
  return root_dir


def _losses(summary_dir: str) -> dict[int, float]:
  """The training loss at each step, read from the TensorBoard events."""
  losses = {}
  for path in tf.io.gfile.glob(os.path.join(summary_dir, 'events.*')):
    for event in tf.compat.v1.train.summary_iterator(path):
      for value in event.summary.value:
        if value.tag == 'Losses/loss':
          losses[event.step] = float(tf.make_ndarray(value.tensor))
  return losses


def test_short_pixel_run_lowers_its_info_nce_loss(run_dir):
  losses = _losses(os.path.join(run_dir, 'train'))
  steps = sorted(losses)
  assert len(steps) >= NUM_ITERATIONS - 1
  # Chance level: an untrained model scores the expert action and its 16
  # counter-examples alike. The first steps are no steadier a baseline: which
  # windows Reverb samples varies from run to run, and the loss already
  # falls within them.
  chance = np.log(17.0)
  last = np.mean([losses[step] for step in steps[-10:]])
  assert last < chance - 0.5, (chance, last)  # typically 2.83 -> 1.4-1.7


def test_exported_pixel_policy_acts_within_the_bounds_of_the_task(run_dir):
  policy = py_tf_eager_policy.SavedModelPyTFEagerPolicy(
      os.path.join(run_dir, train_eval.POLICY_DIR),
      load_specs_from_pbtxt=True)
  image_spec = policy.time_step_spec.observation['rgb']
  assert image_spec.shape == (2, 24, 32, 3) and image_spec.dtype == tf.uint8
  env = wrappers.HistoryWrapper(
      environments.make('PUSH_PIXELS', seed=1, image_width=32,
                        image_height=24),
      history_length=2, tile_first_step_obs=True)
  try:
    bound = env.action_spec().maximum
    time_step = env.reset()
    for _ in range(5):
      action = policy.action(time_step).action
      assert action.shape == (2,) and np.all(np.abs(action) <= bound)
      time_step = env.step(action)
  finally:
    env.close()
