"""`python -m ibc_agents.train`: its help, listings and quiet start, as run."""
import os
import subprocess
import sys

import environments

_ENV = {key: value for key, value in os.environ.items()
        if key != 'TF_CPP_MIN_LOG_LEVEL'}  # the command's own default


def _train_command(*flags: str) -> subprocess.CompletedProcess:
  return subprocess.run([sys.executable, '-m', 'ibc_agents.train', *flags],
                        capture_output=True, text=True, env=_ENV, check=True,
                        timeout=300)


def test_help_shows_the_commands_own_flags_without_loading_tensorflow():
  done = subprocess.run(
      [sys.executable, '-c',
       'import sys, runpy\n'
       'sys.argv = ["train", "--help"]\n'
       'try:\n'
       '  runpy.run_module("ibc_agents.train", run_name="__main__")\n'
       'except SystemExit:\n'
       '  pass\n'
       'print("tensorflow loaded:", "tensorflow" in sys.modules)'],
      capture_output=True, text=True, env=_ENV, check=True)
  for flag in ('--gin_file', '--dataset', '--network', '--[no]list_tasks',
               '--[no]list_configs', '--[no]list_parameters'):
    assert flag in done.stdout
  assert 'tensorflow loaded: False' in done.stdout


def test_list_tasks_prints_every_registered_task_without_banners():
  done = _train_command('--list_tasks')
  assert done.stdout.split() == environments.known_tasks()
  assert 'cuDNN' not in done.stderr and 'Gym has been unmaintained' not in (
      done.stderr)


def test_list_configs_prints_every_shipped_config_with_its_description():
  lines = _train_command('--list_configs').stdout.splitlines()
  paths = [line.split()[0] for line in lines]
  assert 'gin_configs/particle/ibc_dfo.gin' in paths
  assert 'gin_configs/pushing_pixels/ibc_dfo.gin' in paths
  described = dict(line.split(maxsplit=1) for line in lines)
  assert described['gin_configs/particle/ibc_dfo.gin'].startswith(
      'IBC with derivative-free optimisation')


def test_list_parameters_prints_values_defaults_and_doc_lines():
  lines = _train_command('--gin_file=gin_configs/particle/ibc_dfo.gin',
                         '--gin_bindings=MLPEBM.depth = 4',
                         '--list_parameters').stdout.splitlines()
  assert ('train_eval.batch_size = 256  # demonstration windows per train '
          'step.') in lines
  assert 'MLPEBM.width = 128  # (default: 256)' in lines
  assert 'MLPEBM.depth = 4  # (default: 2)' in lines
  assert any(line.startswith('dfo_maximize.num_iterations = 3  # ')
             for line in lines)


def test_last_line_names_the_evaluated_policy_its_step_and_the_seed_quietly(
    easy_particle, tmp_path):
  done = _train_command(
      '--gin_file=gin_configs/particle/mse.gin',
      f'--dataset={easy_particle.directory}', f'--root_dir={tmp_path}',
      *[f'--gin_bindings={binding}' for binding in easy_particle.bindings],
      '--gin_bindings=train_eval.num_iterations = 20',
      '--gin_bindings=train_eval.eval_episodes = 2',
      '--gin_bindings=train_eval.seed = 3')
  last = done.stdout.strip().splitlines()[-1]
  assert last.startswith('success_rate=')
  # Exporting the policy: TensorFlow's notes on it stay out of the output.
  output = done.stdout + done.stderr
  assert 'is not a valid tf.function parameter name' not in output
  assert 'Encoding a StructuredValue' not in output
  assert last.endswith(f'eval_episodes=2 policy={tmp_path}/policy (last, '
                       f'step 20) seed=3 run_dir={tmp_path}')
