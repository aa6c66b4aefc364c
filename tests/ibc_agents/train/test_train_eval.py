"""End to end: oracle demonstrations -> Reverb -> Learner -> evaluation -> SavedModel."""
import glob
import json
import math
import os
import re
import shutil
import subprocess
import sys

import gin
import pytest
import reverb
import tensorflow as tf

from data_tools import replay
from ibc_agents.train import run_dir
from ibc_agents.train import train_eval

GIN_FILE = 'gin_configs/particle/ibc_dfo.gin'  # read from the installed package
# The quickstart's configuration, trained briefly on a task with wider goals.
NUM_ITERATIONS = 1200
EVAL_EPISODES = 40
FAST_BINDINGS = [
    f'train_eval.eval_interval = {NUM_ITERATIONS}',
    f'train_eval.eval_episodes = {EVAL_EPISODES}',
    'train_eval.log_interval = 500',
    'train_eval.batch_size = 128',
]


@pytest.fixture(scope='module')
def trained_run(easy_particle, tmp_path_factory):
  """Trains IBC-DFO briefly on the easy demonstrations."""
  root_dir = str(tmp_path_factory.mktemp('run'))
  gin.clear_config()
  gin.parse_config_files_and_bindings(
      [GIN_FILE], [*easy_particle.bindings, *FAST_BINDINGS,
                   f'train_eval.num_iterations = {NUM_ITERATIONS}'])
  results = train_eval.train_eval(
      root_dir=root_dir, dataset=easy_particle.directory,
      validation_dataset=easy_particle.directory)
  yield easy_particle, root_dir, results
  gin.clear_config()


def _train_again(easy_particle, root_dir, num_iterations):
  """The same command again in `root_dir`, to `num_iterations`, 5 episodes."""
  gin.clear_config()
  gin.parse_config_files_and_bindings(
      [GIN_FILE], [*easy_particle.bindings, *FAST_BINDINGS,
                   f'train_eval.num_iterations = {num_iterations}',
                   'train_eval.eval_episodes = 5'])
  return train_eval.train_eval(root_dir=root_dir,
                               dataset=easy_particle.directory)


def test_trained_policy_beats_a_random_policy(trained_run):
  easy_particle, _, results = trained_run
  random_rate = easy_particle.random_policy_success_rate(EVAL_EPISODES)
  assert results['success_rate'] >= random_rate + 0.3, (results, random_rate)


def test_training_on_windows_from_a_reverb_server_in_a_child_process_learns(
    trained_run, tmp_path, capsys):
  easy_particle, _, memory_results = trained_run
  gin.clear_config()
  gin.parse_config_files_and_bindings(
      [GIN_FILE], [*easy_particle.bindings, *FAST_BINDINGS,
                   f'train_eval.num_iterations = {NUM_ITERATIONS}',
                   'train_eval.sample_in_memory = False'])
  try:
    results = train_eval.train_eval(root_dir=str(tmp_path / 'run'),
                                    dataset=easy_particle.directory)
  finally:
    gin.clear_config()
  random_rate = easy_particle.random_policy_success_rate(EVAL_EPISODES)
  assert results['success_rate'] >= random_rate + 0.3, (results, random_rate)
  assert results['dataset_episodes'] == memory_results['dataset_episodes']
  out = capsys.readouterr().out
  assert re.search(r'Demonstrations: Serving .* at 127\.0\.0\.1:\d+ \(a child '
                   r'process, pid \d+\)', out), out
  assert 'served by a Reverb server at 127.0.0.1:' in out


def test_run_directory_holds_results_config_checkpoints_and_summaries(trained_run):
  _, root_dir, results = trained_run
  with open(os.path.join(root_dir, 'results.json')) as f:
    saved = json.load(f)
  for key in ('success_rate', 'avg_return', 'eval_episodes', 'train_steps',
              'steps_per_sec'):
    assert saved[key] == results[key]
  assert saved['train_steps'] == NUM_ITERATIONS
  assert saved['eval_episodes'] == EVAL_EPISODES
  assert saved['steps_per_sec'] > 0
  with open(os.path.join(root_dir, 'operative_config.gin')) as f:
    operative = f.read()
  assert 'ParticleEnv.goal_tolerance = 0.08' in operative
  assert 'dfo_maximize.num_iterations = 3' in operative  # used by the policy
  assert os.listdir(os.path.join(root_dir, 'plots'))
  assert os.listdir(os.path.join(root_dir, 'train', 'checkpoints'))
  assert any(name.startswith('events')
             for name in os.listdir(os.path.join(root_dir, 'eval')))


def _summary_tags(directory: str) -> set[str]:
  tags = set()
  for path in glob.glob(os.path.join(directory, 'events*')):
    for event in tf.compat.v1.train.summary_iterator(path):
      tags.update(value.tag for value in event.summary.value)
  return tags


def test_tensorboard_gets_learning_rate_speed_validation_loss_and_energy(
    trained_run):
  _, root_dir, results = trained_run
  train_tags = _summary_tags(os.path.join(root_dir, 'train'))
  assert {'train/learning_rate', 'train/steps_per_sec'} <= train_tags
  assert {'eval/energy', 'eval/validation_loss'} <= _summary_tags(
      os.path.join(root_dir, 'eval'))
  # InfoNCE over 1 + N candidates: below a uniform guess's log(1 + N) once
  # trained, and positive.
  assert 0 < results['validation_loss'] < math.log(1 + 64)


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


def test_restored_agent_holds_the_exported_weights_without_the_dataset(
    trained_run):
  _, root_dir, _ = trained_run
  gin.clear_config()
  train_eval.parse_operative_config(root_dir)
  # The run keeps the statistics of its normalizers, and acting settings
  # may change.
  gin.parse_config(["train_eval.dataset = '/nonexistent'",
                    'IbcPolicy.num_action_samples = 32'])
  agent = train_eval.restore_agent(root_dir)
  gin.clear_config()
  exported = tf.saved_model.load(os.path.join(root_dir, 'policy'))
  assert (sorted(v.numpy().tobytes() for v in agent.policy.variables()) ==
          sorted(v.numpy().tobytes() for v in exported.model_variables))
  assert agent.policy._num_action_samples == 32  # pylint: disable=protected-access


def test_restoring_a_run_without_checkpoints_is_refused(tmp_path):
  with pytest.raises(ValueError, match='no training checkpoint'):
    train_eval.restore_agent(str(tmp_path))


def test_rerun_resumes_from_the_last_checkpoint(trained_run, capsys):
  easy_particle, root_dir, _ = trained_run
  # What a run killed while saving leaves behind.
  leftovers = [os.path.join(root_dir, 'train', 'checkpoints', 'ckpt-9_temp'),
               os.path.join(root_dir, 'policy', 'variables', 'variables_temp')]
  for leftover in leftovers:
    os.makedirs(leftover)
    with open(os.path.join(leftover, 'part-00000-of-00001'), 'w') as f:
      f.write('half')
  capsys.readouterr()
  results = _train_again(easy_particle, root_dir, NUM_ITERATIONS + 100)
  assert results['train_steps'] == NUM_ITERATIONS + 100
  logged_steps = [int(line.split()[1].split('/')[0])
                  for line in capsys.readouterr().out.splitlines()
                  if line.startswith('step ')]
  assert logged_steps == [NUM_ITERATIONS + 100]
  # The evaluation of the first run is kept beside the new one.
  assert [entry['step'] for entry in results['eval_history']] == [
      NUM_ITERATIONS, NUM_ITERATIONS + 100]
  with open(os.path.join(root_dir, 'results.json')) as f:
    assert json.load(f) == results
  assert not any(map(os.path.exists, leftovers))


def test_rerun_of_a_finished_run_evaluates_again_and_keeps_its_results(
    trained_run):
  easy_particle, root_dir, _ = trained_run
  with open(os.path.join(root_dir, 'results.json')) as f:
    before = json.load(f)
  results = _train_again(easy_particle, root_dir, before['train_steps'])
  assert results['train_steps'] == before['train_steps']
  assert results['steps_per_sec'] == before['steps_per_sec'] is not None
  steps = [entry['step'] for entry in results['eval_history']]
  assert steps == [entry['step'] for entry in before['eval_history']]


def test_rerun_makes_the_evaluation_a_stopped_run_did_not_finish(
    trained_run, tmp_path):
  easy_particle, trained_dir, _ = trained_run
  root_dir = str(tmp_path / 'run')
  shutil.copytree(trained_dir, root_dir)
  results_path = os.path.join(root_dir, 'results.json')
  with open(results_path) as f:
    results = json.load(f)
  stopped_at = results['train_steps']  # its checkpoint's step
  # What a run stopped during the evaluation at its checkpoint leaves.
  results['eval_history'] = [entry for entry in results['eval_history']
                             if entry['step'] != stopped_at]
  with open(results_path, 'w') as f:
    json.dump(results, f)
  gin.clear_config()
  gin.parse_config_files_and_bindings(
      [GIN_FILE], [*easy_particle.bindings, *FAST_BINDINGS,
                   f'train_eval.num_iterations = {stopped_at + 100}',
                   'train_eval.eval_interval = 100',
                   'train_eval.eval_episodes = 5'])
  results = train_eval.train_eval(root_dir=root_dir,
                                  dataset=easy_particle.directory)
  steps = [entry['step'] for entry in results['eval_history']]
  assert steps[-2:] == [stopped_at, stopped_at + 100]


def test_no_evaluation_before_the_first_eval_step_but_always_at_the_last(
    easy_particle, tmp_path):
  gin.clear_config()
  gin.parse_config_files_and_bindings(
      ['gin_configs/particle/mse.gin'],
      [*easy_particle.bindings, 'train_eval.num_iterations = 450',
       'train_eval.eval_interval = 100', 'train_eval.first_eval_step = 250',
       'train_eval.eval_episodes = 3', 'train_eval.log_interval = 100'])
  try:
    results = train_eval.train_eval(root_dir=str(tmp_path),
                                    dataset=easy_particle.directory)
  finally:
    gin.clear_config()
  assert [entry['step'] for entry in results['eval_history']] == [
      300, 400, 450]


def test_second_run_in_a_directory_in_use_is_refused(tmp_path):
  with run_dir.exclusive(str(tmp_path)):
    with pytest.raises(RuntimeError,
                       match=rf'{tmp_path} is in use .* \(process {os.getpid()}\)'):
      train_eval.train_eval(root_dir=str(tmp_path), dataset=str(tmp_path))
  assert not (tmp_path / 'results.json').exists()


def test_lock_of_a_killed_run_does_not_block_the_next(tmp_path):
  holder = subprocess.Popen(
      [sys.executable, '-c',
       'import sys, time; from ibc_agents.train import run_dir\n'
       f'with run_dir.exclusive({str(tmp_path)!r}):\n'
       '  print("held", flush=True); time.sleep(60)'],
      stdout=subprocess.PIPE, text=True)
  assert holder.stdout.readline().strip() == 'held'
  with pytest.raises(RuntimeError, match=f'process {holder.pid}'):
    with run_dir.exclusive(str(tmp_path)):
      pass
  holder.kill()
  holder.wait()
  with run_dir.exclusive(str(tmp_path)):
    assert (tmp_path / 'run.lock').read_text() == str(os.getpid())


@pytest.mark.parametrize('binding, message', [
    ("train_eval.num_iterations = '20'",
     r"train_eval.num_iterations must be an integer >= 1, got '20' \(str\)"),
    ('ImplicitBCAgent.num_counter_examples = 8.5',
     r'ImplicitBCAgent.num_counter_examples must be an integer >= 1, got 8.5'),
    ("MLPEBM.width = '128'",
     r"MLPEBM cannot be built with its gin bindings \{'width': '128', "
     r"'depth': 2\}: TypeError: "),
])
def test_gin_value_of_the_wrong_type_is_refused_naming_it(
    easy_particle, tmp_path, binding, message):
  gin.clear_config()
  gin.parse_config_files_and_bindings(
      [GIN_FILE], [*easy_particle.bindings, *FAST_BINDINGS, binding])
  try:
    with pytest.raises(ValueError, match=message):
      train_eval.train_eval(root_dir=str(tmp_path / 'run'),
                            dataset=easy_particle.directory)
  finally:
    gin.clear_config()


def test_reset_replay_table_stops_training_with_a_checkpoint_to_resume(
    easy_particle, tmp_path):
  """Another client resets the trainer's own server's table mid-training."""
  command = [
      sys.executable, '-m', 'ibc_agents.train',
      '--gin_file=gin_configs/particle/mse.gin',
      f'--dataset={easy_particle.directory}', f'--root_dir={tmp_path}',
      *[f'--gin_bindings={binding}' for binding in (
          *easy_particle.bindings, 'train_eval.num_iterations = 3000',
          'train_eval.eval_interval = 3000', 'train_eval.eval_episodes = 5',
          'train_eval.checkpoint_interval = 100',
          'train_eval.log_interval = 100',
          'train_eval.sample_in_memory = False')]]
  training = subprocess.Popen(command, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True,
                              env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'))
  for line in training.stdout:
    served = re.match(r'Demonstrations: Serving .* at (\S+:\d+) ', line)
    if served:
      address = served.group(1)
    if line.startswith('step 200/'):
      break
  reverb.Client(address).reset(replay.TABLE_NAME)
  stdout, stderr = training.communicate(timeout=120)
  assert training.returncode == train_eval.SERVER_LOST_EXIT_STATUS, stderr
  assert (f"the demonstration server at {address} had its table "
          "'demonstrations' altered after loading (emptied)") in stderr
  assert 'The last checkpoint' in stderr and 'is intact' in stderr
  assert 'success_rate=' not in stdout
  resumed = subprocess.run(command, capture_output=True, text=True,
                           check=False,
                           env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'))
  assert resumed.returncode == 0, resumed.stderr[-3000:]
  assert 'step 100/' not in resumed.stdout  # restored, not restarted
  with open(tmp_path / 'results.json') as f:
    assert json.load(f)['train_steps'] == 3000


def test_operative_config_of_an_earlier_version_still_parses(tmp_path):
  (tmp_path / train_eval.OPERATIVE_CONFIG_FILE).write_text(
      'import ibc_agents.samplers as ibc_agents1\n'
      'import ibc_agents.train_eval as ibc_agents2\n'
      'langevin_actions.num_iterations = 7\n'
      'train_eval.history_length = 3\n')
  gin.clear_config()
  try:
    train_eval.parse_operative_config(str(tmp_path))
    assert gin.query_parameter('langevin_maximize.num_iterations') == 7
    assert gin.query_parameter('train_eval.history_length') == 3
  finally:
    gin.clear_config()
