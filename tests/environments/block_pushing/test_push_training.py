"""A few CPU minutes of IBC on PUSH succeed where a random policy does not.

The run uses the pushing DFO configuration with a network, batch and sample
counts small enough for a CPU. Both policies act in the same seeded
episodes; besides success, the test checks the block-to-target distance at
the end of the episodes, a measure of progress that failures also show.
"""
import os

import gin
import numpy as np
import pytest
from tf_agents.policies import py_tf_eager_policy
from tf_agents.policies import random_py_policy
from tf_agents.utils import nest_utils

from ibc_agents.train import train_eval

GIN_FILE = 'gin_configs/pushing_states/ibc_dfo.gin'
NUM_ITERATIONS = 1500
EVAL_EPISODES = 30
EVAL_SEED = 1_000_000
# A few CPU minutes do not reach the original's 0.01 m; success is judged at
# the looser tolerance variant (the demonstrations keep the default).
EVAL_BINDINGS = ['import environments.block_pushing.block_pushing_env',
                 'PushEnv.success_tolerance = 0.05']
CPU_BINDINGS = [
    'MLPEBM.depth = 2',
    'ImplicitBCAgent.num_counter_examples = 64',
    'IbcPolicy.num_action_samples = 512',
    'train_eval.batch_size = 128',
    f'train_eval.num_iterations = {NUM_ITERATIONS}',
    f'train_eval.eval_interval = {NUM_ITERATIONS}',
    'train_eval.eval_episodes = 1',  # the test evaluates the exported policy
    'train_eval.log_interval = 500',
    'train_eval.eval_plot_fn = None',
    'BlockPushingEnv.render_width = 80',  # a small evaluation video
    'BlockPushingEnv.render_height = 60',
]


def _evaluate(policy, num_episodes: int) -> tuple[np.ndarray, np.ndarray]:
  """Runs the seeded evaluation episodes in lockstep.

  Returns:
    (success [E], block-to-target distance at the end of each episode [E]).
  """
  gin.parse_config(EVAL_BINDINGS)
  try:
    envs = [train_eval.make_env('PUSH', 2, seed=EVAL_SEED + index)
            for index in range(num_episodes)]
  finally:
    gin.clear_config()
  time_steps = [env.reset() for env in envs]
  done = np.zeros(num_episodes, bool)
  while not done.all():
    actions = policy.action(nest_utils.stack_nested_arrays(time_steps)).action
    for index in np.flatnonzero(~done):
      time_steps[index] = envs[index].step(actions[index])
      done[index] = time_steps[index].is_last()
  success = np.array([env.get_info()['success'] for env in envs])
  for env in envs:
    env.close()
  distance = np.array([
      np.linalg.norm(step.observation['block_translation'][-1] -
                     step.observation['target_translation'][-1])
      for step in time_steps])
  return success, distance


@pytest.fixture(scope='module')
def trained_run(push_demos, tmp_path_factory):
  root_dir = str(tmp_path_factory.mktemp('push_run'))
  gin.clear_config()
  gin.parse_config_files_and_bindings([GIN_FILE], CPU_BINDINGS)
  try:
    results = train_eval.train_eval(root_dir=root_dir,
                                    dataset=push_demos.directory)
  finally:
    gin.clear_config()
  return root_dir, results


def test_trained_policy_succeeds_more_often_and_ends_nearer_than_random(
    trained_run):
  root_dir, _ = trained_run
  trained = py_tf_eager_policy.SavedModelPyTFEagerPolicy(
      os.path.join(root_dir, train_eval.POLICY_DIR), load_specs_from_pbtxt=True,
      batch_time_steps=False)
  env = train_eval.make_env('PUSH', 2)
  random_policy = random_py_policy.RandomPyPolicy(
      env.time_step_spec(), env.action_spec(), outer_dims=(EVAL_EPISODES,),
      seed=0)
  env.close()
  trained_success, trained_distance = _evaluate(trained, EVAL_EPISODES)
  random_success, random_distance = _evaluate(random_policy, EVAL_EPISODES)
  print(f'success: trained {trained_success.mean():.2f}, random '
        f'{random_success.mean():.2f}; mean final block-to-target distance: '
        f'trained {trained_distance.mean():.3f} m, random '
        f'{random_distance.mean():.3f} m')
  # Blocks start at least 0.1 m from the target, too far for a random
  # effector, which ends 0.36 to 0.41 m away on average. On the original's
  # physics a few CPU minutes reach 0.15 to 0.45 success at 0.05 m with a
  # mean final distance of 0.14 to 0.23 m, differing from run to run; the
  # test asks for successes where random has none and for a clearly shorter
  # distance.
  assert trained_success.mean() > random_success.mean()
  assert trained_distance.mean() < 0.7 * random_distance.mean()


def test_run_writes_an_evaluation_video(trained_run):
  root_dir, _ = trained_run
  videos = os.listdir(os.path.join(root_dir, train_eval.VIDEOS_DIR))
  assert videos == [f'step_{NUM_ITERATIONS:07d}.gif']
