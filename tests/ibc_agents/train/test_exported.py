"""An exported policy is evaluated on every registered task, or refused clearly."""
import os
import subprocess
import sys

import gin
import pytest
from tf_agents.policies import policy_saver
from tf_agents.policies import random_tf_policy
from tf_agents.specs import tensor_spec

import environments
from ibc_agents.train import exported
from ibc_agents.train import train_eval

_ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2')
_SMALL_IMAGES = ('PixelObservations.image_width = 32',
                 'PixelObservations.image_height = 24')


def _configure(task: str) -> None:
  gin.clear_config()
  environments.import_modules(task)
  gin.parse_config(_SMALL_IMAGES if 'PIXELS' in task else ())


def _export_random_policy(task: str, policy_dir: str) -> None:
  """A random policy with the task's history-stacked specs, as a SavedModel."""
  try:
    env = train_eval.make_env(task, history_length=2)
  except ImportError as error:  # D4RL tasks whose simulator is not installed
    pytest.skip(str(error))
  try:
    policy = random_tf_policy.RandomTFPolicy(
        tensor_spec.from_spec(env.time_step_spec()),
        tensor_spec.from_spec(env.action_spec()))
  finally:
    env.close()
  policy_saver.PolicySaver(policy, batch_size=None).save(policy_dir)


@pytest.mark.parametrize('task', environments.known_tasks())
def test_exported_policy_is_evaluated_on_every_registered_task(task, tmp_path):
  _configure(task)
  try:
    _export_random_policy(task, str(tmp_path))
    results = exported.evaluate_policy(str(tmp_path), task, num_episodes=1)
  finally:
    gin.clear_config()
  assert results['eval_episodes'] == 1
  assert 0.0 <= results['success_rate'] <= 1.0
  assert results['avg_episode_length'] >= 1


def test_policy_of_another_task_is_refused_showing_both_specs(tmp_path):
  _configure('PARTICLE')
  try:
    _export_random_policy('PARTICLE', str(tmp_path))
    environments.import_modules('PUSH')
    with pytest.raises(ValueError) as raised:
      exported.evaluate_policy(str(tmp_path), 'PUSH', num_episodes=1)
  finally:
    gin.clear_config()
  message = str(raised.value)
  assert 'The policy does not fit task PUSH' in message
  assert 'policy: observations: pos_agent [2, 2] float32' in message
  assert 'task:   observations: block_orientation [2, 1] float32' in message


def _evaluate_command(*flags: str) -> subprocess.CompletedProcess:
  return subprocess.run([sys.executable, '-m', 'ibc_agents.evaluate', *flags],
                        capture_output=True, text=True, env=_ENV, check=False)


def test_evaluate_command_runs_a_block_pushing_policy_and_writes_json(
    tmp_path):
  """Gin is locked only after the task's configurables are registered."""
  _configure('PUSH')
  try:
    _export_random_policy('PUSH', str(tmp_path / 'policy'))
  finally:
    gin.clear_config()
  done = _evaluate_command(f'--policy_dir={tmp_path / "policy"}',
                           '--task=PUSH', '--episodes=2',
                           f'--output_json={tmp_path / "results.json"}',
                           '--gin_bindings=PushEnv.max_steps = 5')
  assert done.returncode == 0, done.stderr
  assert 'success_rate=' in done.stdout
  import json  # pylint: disable=g-import-not-at-top
  with open(tmp_path / 'results.json') as f:
    record = json.load(f)
  assert record['task'] == 'PUSH' and record['eval_episodes'] == 2
  assert record['avg_episode_length'] == 5


def test_evaluate_help_lists_its_own_flags_without_loading_tensorflow():
  done = subprocess.run(
      [sys.executable, '-c',
       'import sys, runpy\n'
       'sys.argv = ["evaluate", "--help"]\n'
       'try:\n'
       '  runpy.run_module("ibc_agents.evaluate", run_name="__main__")\n'
       'except SystemExit:\n'
       '  pass\n'
       'print("tensorflow loaded:", "tensorflow" in sys.modules)'],
      capture_output=True, text=True, env=_ENV, check=True)
  for flag in ('--policy_dir', '--task', '--episodes', '--output_json'):
    assert flag in done.stdout
  assert 'tensorflow loaded: False' in done.stdout
