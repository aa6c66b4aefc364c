"""End to end: oracle demonstrations -> Reverb -> Learner -> evaluation -> SavedModel."""
import json
import os
import subprocess
import sys

import gin
import pytest
from tf_agents.policies import random_py_policy

from data_tools import collect
from ibc_agents import evaluation
from ibc_agents import train_eval

GIN_FILE = 'gin_configs/particle/ibc_dfo.gin'  # read from the installed package
# The quickstart's configuration, trained briefly on a task with wider goals.
EASIER_TASK = ['ParticleEnv.goal_tolerance = 0.08']
NUM_ITERATIONS = 1200
FAST_BINDINGS = EASIER_TASK + [
    f'train_eval.eval_interval = {NUM_ITERATIONS}',
    'train_eval.eval_episodes = 40',
    'train_eval.log_interval = 500',
    'train_eval.batch_size = 128',
]
LANGEVIN_GIN_FILE = 'gin_configs/particle/ibc_langevin.gin'
LANGEVIN_EVAL_EPISODES = 20
# The shipped Langevin configuration at a test's size: smaller batches,
# shorter counter-example chains, a cheaper policy (fewer samples, shorter
# refinement chains), fewer steps.
LANGEVIN_BINDINGS = EASIER_TASK + [
    'train_eval.num_iterations = 600',
    'train_eval.eval_interval = 600',
    f'train_eval.eval_episodes = {LANGEVIN_EVAL_EPISODES}',
    'train_eval.log_interval = 300',
    'train_eval.batch_size = 128',
    'counter_examples/langevin_actions.num_iterations = 10',
    'IbcPolicy.num_action_samples = 256',
    'langevin_actions.num_iterations = 20',
]


@pytest.fixture(scope='module')
def easy_demos(tmp_path_factory):
  """300 oracle episodes of the task with wider goals."""
  data_dir = str(tmp_path_factory.mktemp('data'))
  collect.collect('PARTICLE', num_episodes=300, output_dir=data_dir,
                  num_workers=2, seed=0, gin_bindings=[
                      'import environments.particle.particle_env'] + EASIER_TASK)
  return data_dir


@pytest.fixture(scope='module')
def trained_run(easy_demos, tmp_path_factory):
  """Trains IBC-DFO briefly on the easy demonstrations."""
  data_dir = easy_demos
  root_dir = str(tmp_path_factory.mktemp('run'))
  gin.clear_config()
  gin.parse_config_files_and_bindings(
      [GIN_FILE], FAST_BINDINGS + [f'train_eval.num_iterations = {NUM_ITERATIONS}'])
  results = train_eval.train_eval(root_dir=root_dir, dataset=data_dir)
  yield data_dir, root_dir, results
  gin.clear_config()


def _random_policy_success_rate(num_episodes):
  """Success of uniform random actions on the evaluation episodes."""
  env = train_eval.make_env('PARTICLE', history_length=2)
  random_policy = random_py_policy.RandomPyPolicy(
      env.time_step_spec(), env.action_spec(), outer_dims=(num_episodes,))
  return evaluation.evaluate(
      random_policy, lambda seed: train_eval.make_env('PARTICLE', 2, seed),
      num_episodes=num_episodes, seed=1_000_000).success_rate


def test_trained_policy_beats_a_random_policy(trained_run):
  _, _, results = trained_run
  random_rate = _random_policy_success_rate(40)
  assert results['success_rate'] >= random_rate + 0.3, (results, random_rate)


def test_short_langevin_training_beats_a_random_policy(easy_demos, tmp_path):
  """Counter-examples from Langevin chains; actions by DFO then Langevin."""
  gin.clear_config()
  gin.parse_config_files_and_bindings([LANGEVIN_GIN_FILE], LANGEVIN_BINDINGS)
  try:
    results = train_eval.train_eval(root_dir=str(tmp_path), dataset=easy_demos)
  finally:
    gin.clear_config()
  with open(os.path.join(tmp_path, 'operative_config.gin')) as f:
    operative = f.read()
  # The operative config lists only the parameters that were used.
  assert 'counter_examples/langevin_actions.num_iterations = 10' in operative
  assert 'dfo_then_langevin' in operative
  random_rate = _random_policy_success_rate(LANGEVIN_EVAL_EPISODES)
  assert results['success_rate'] >= random_rate + 0.3, (results, random_rate)


def test_run_directory_holds_results_config_checkpoints_and_summaries(trained_run):
  _, root_dir, results = trained_run
  with open(os.path.join(root_dir, 'results.json')) as f:
    saved = json.load(f)
  for key in ('success_rate', 'avg_return', 'eval_episodes', 'train_steps',
              'steps_per_sec'):
    assert saved[key] == results[key]
  assert saved['train_steps'] == NUM_ITERATIONS
  assert saved['eval_episodes'] == 40
  assert saved['steps_per_sec'] > 0
  with open(os.path.join(root_dir, 'operative_config.gin')) as f:
    operative = f.read()
  assert 'ParticleEnv.goal_tolerance = 0.08' in operative
  assert 'dfo_maximize.num_iterations = 3' in operative  # used by the policy
  assert os.listdir(os.path.join(root_dir, 'plots'))
  assert os.listdir(os.path.join(root_dir, 'train', 'checkpoints'))
  assert any(name.startswith('events')
             for name in os.listdir(os.path.join(root_dir, 'eval')))


def test_exported_policy_acts_without_importing_the_project(trained_run):
  _, root_dir, _ = trained_run
  script = f'''
import sys
import numpy as np
from tf_agents.policies import py_tf_eager_policy
from tf_agents.specs import array_spec
from tf_agents.specs import tensor_spec
policy = py_tf_eager_policy.SavedModelPyTFEagerPolicy(
    {os.path.join(root_dir, 'policy')!r}, load_specs_from_pbtxt=True)
time_step = array_spec.sample_spec_nest(
    tensor_spec.to_nest_array_spec(policy.time_step_spec),
    np.random.RandomState(0))
action = policy.action(time_step).action
action_spec = tensor_spec.to_array_spec(policy.action_spec)
assert action_spec.check_array(np.asarray(action)), action
loaded = [m for m in sys.modules
          if m.split('.')[0] in ('ibc_agents', 'environments', 'data_tools')]
assert not loaded, loaded
print('acted', action)
'''
  completed = subprocess.run([sys.executable, '-c', script], cwd='/',
                             capture_output=True, text=True, timeout=120)
  assert completed.returncode == 0, completed.stderr[-3000:]
  assert 'acted' in completed.stdout


def test_rerun_resumes_from_the_last_checkpoint(trained_run, capsys):
  data_dir, root_dir, _ = trained_run
  capsys.readouterr()
  gin.clear_config()
  gin.parse_config_files_and_bindings(
      [GIN_FILE], FAST_BINDINGS + [
          f'train_eval.num_iterations = {NUM_ITERATIONS + 100}',
          'train_eval.eval_episodes = 5'])
  results = train_eval.train_eval(root_dir=root_dir, dataset=data_dir)
  assert results['train_steps'] == NUM_ITERATIONS + 100
  logged_steps = [int(line.split()[1].split('/')[0])
                  for line in capsys.readouterr().out.splitlines()
                  if line.startswith('step ')]
  assert logged_steps == [NUM_ITERATIONS + 100]
