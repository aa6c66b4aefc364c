"""Training from a standalone demonstration server, and losing it."""
import json
import os
import subprocess
import sys

import numpy as np
import reverb

from data_tools import replay
from ibc_agents.train import train_eval

_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..',
                     '..')
_ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2')


def _train_command(easy_particle, address, root_dir, *bindings):
  return [sys.executable, '-m', 'ibc_agents.train',
          '--gin_file=gin_configs/particle/mse.gin',
          f'--replay_server={address}', f'--root_dir={root_dir}',
          *[f'--gin_bindings={binding}'
            for binding in (*easy_particle.bindings, *bindings)]]


def test_training_from_a_server_stops_when_it_is_lost_and_resumes_after(
    easy_particle, start_replay_server, tmp_path):
  server = start_replay_server(easy_particle.directory)
  command = _train_command(
      easy_particle, server.address, tmp_path,
      'train_eval.num_iterations = 1500', 'train_eval.checkpoint_interval = 50',
      'train_eval.log_interval = 50', 'train_eval.eval_interval = 1500',
      'train_eval.eval_episodes = 2',
      'RemoteDemonstrations.lost_after_seconds = 4')
  training = subprocess.Popen(command, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=_ENV,
                              cwd=_ROOT)
  for line in training.stdout:
    if line.startswith('step 100/'):
      break
  server.stop()
  stdout, stderr = training.communicate(timeout=120)
  assert (training.returncode == train_eval.SERVER_LOST_EXIT_STATUS
         ), stderr[-3000:]
  assert (f'the demonstration server at {server.address} has not answered'
          in stderr)
  assert 'The last checkpoint' in stderr and 'is intact' in stderr
  assert 'success_rate=' not in stdout

  start_replay_server(easy_particle.directory, port=server.port)
  resumed = subprocess.run(command, capture_output=True, text=True, env=_ENV,
                           cwd=_ROOT, check=False)
  assert resumed.returncode == 0, resumed.stderr[-3000:]
  assert 'Reading 300 episodes' in resumed.stdout
  # mse.gin samples in memory; demonstrations from a server cannot be.
  assert 'train_eval.sample_in_memory does not apply' in resumed.stderr
  assert 'step 50/' not in resumed.stdout  # restored, not restarted
  with open(tmp_path / 'results.json') as f:
    results = json.load(f)
  assert results['train_steps'] == 1500 and results['dataset_episodes'] == 300


def test_training_stops_when_another_client_writes_to_its_server(
    easy_particle, start_replay_server, tmp_path):
  server = start_replay_server(easy_particle.directory)
  training = subprocess.Popen(
      _train_command(easy_particle, server.address, tmp_path,
                     'train_eval.num_iterations = 5000',
                     'train_eval.checkpoint_interval = 50',
                     'train_eval.log_interval = 50',
                     'train_eval.eval_interval = 5000'),
      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_ENV,
      cwd=_ROOT)
  for line in training.stdout:
    if line.startswith('step 100/'):
      break
  reverb.Client(server.address).insert(
      np.asarray(b'poisoned', object), {replay.INFO_TABLE_NAME: 1.0})
  stdout, stderr = training.communicate(timeout=120)
  assert (training.returncode == train_eval.SERVER_LOST_EXIT_STATUS
         ), stderr[-3000:]
  assert ("had its table 'demonstration_info' altered after loading"
          in stderr)
  assert 'The last checkpoint' in stderr and 'is intact' in stderr
  assert 'success_rate=' not in stdout


def test_a_server_of_windows_of_another_length_is_refused(easy_particle, start_replay_server,
                                             tmp_path):
  server = start_replay_server(easy_particle.directory)
  done = subprocess.run(
      _train_command(easy_particle, server.address, tmp_path,
                     'train_eval.num_iterations = 10',
                     'train_eval.history_length = 3'),
      capture_output=True, text=True, env=_ENV, cwd=_ROOT, check=False)
  assert done.returncode != 0
  assert 'serves windows that do not match' in done.stderr


def test_a_seed_sweep_shares_one_server(easy_particle, start_replay_server,
                                        tmp_path):
  server = start_replay_server(easy_particle.directory)
  trainings = [subprocess.Popen(
      _train_command(easy_particle, server.address, tmp_path / f'seed_{seed}',
                     'train_eval.num_iterations = 30',
                     'train_eval.eval_interval = 30',
                     'train_eval.eval_episodes = 2',
                     f'train_eval.seed = {seed}'),
      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_ENV,
      cwd=_ROOT) for seed in (0, 1)]
  losses = []
  for training in trainings:
    stdout, stderr = training.communicate(timeout=600)
    assert training.returncode == 0, stderr[-3000:]
    assert 'success_rate=' in stdout
    losses.append(stdout.split('loss ')[-1].split()[0])
  for seed in (0, 1):
    with open(tmp_path / f'seed_{seed}' / 'results.json') as f:
      assert json.load(f)['train_steps'] == 30
  assert losses[0] != losses[1]  # two trainings, not one run twice
