"""Training under a tf.distribute strategy: `train_eval.strategy`."""
import json
import os
import re
import subprocess
import sys
import textwrap

import gin
import pytest

from ibc_agents.train import distribution
from ibc_agents.train import train_eval

_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..',
                     '..')


@pytest.mark.parametrize('gin_file', ['gin_configs/particle/ibc_dfo.gin',
                                      'gin_configs/particle/mse.gin'])
def test_mirrored_training_on_two_cpus_trains_exports_and_resumes(
    easy_particle, tmp_path, gin_file):
  script = textwrap.dedent(f'''
      import sys
      import tensorflow as tf
      cpu = tf.config.list_physical_devices('CPU')[0]
      tf.config.set_logical_device_configuration(
          cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
      import gin
      from tf_agents.policies import py_tf_eager_policy
      from ibc_agents.train import distribution
      from ibc_agents.train import train_eval
      for steps in (20, 30):  # the second run resumes from the first
        gin.clear_config()
        gin.parse_config_files_and_bindings([{gin_file!r}], [
            *{list(easy_particle.bindings)!r},
            f'train_eval.num_iterations = {{steps}}',
            'train_eval.eval_interval = 20', 'train_eval.eval_episodes = 2',
            'train_eval.batch_size = 32', 'train_eval.eval_plot_fn = None',
            "train_eval.strategy = 'mirrored'"])
        results = train_eval.train_eval(root_dir={str(tmp_path)!r},
                                        dataset={easy_particle.directory!r})
        print('trained', results['train_steps'],
              distribution.make_strategy('mirrored').num_replicas_in_sync)
      policy = py_tf_eager_policy.SavedModelPyTFEagerPolicy(
          {str(tmp_path / 'policy')!r}, load_specs_from_pbtxt=True)
      print('policy', policy.action_spec.shape)
  ''')
  done = subprocess.run(
      [sys.executable, '-c', script], capture_output=True, text=True,
      check=False, cwd=_ROOT, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'))
  assert done.returncode == 0, done.stderr[-3000:]
  assert 'trained 20 2' in done.stdout and 'trained 30 2' in done.stdout
  assert 'policy (2,)' in done.stdout


def test_mirrored_training_of_langevin_mdn_and_compiled_dfo_on_two_cpus(
    easy_particle, tmp_path):
  """The other methods and options train, evaluate and export under mirrored."""
  runs = [('gin_configs/particle/ibc_langevin.gin', []),
          ('gin_configs/particle/mdn.gin', []),
          ('gin_configs/particle/ibc_dfo.gin',
           ['ImplicitBCAgent.jit_compile = True',
            'ImplicitBCAgent.policy_averaging_decay = 0.9'])]
  script = textwrap.dedent(f'''
      import tensorflow as tf
      cpu = tf.config.list_physical_devices('CPU')[0]
      tf.config.set_logical_device_configuration(
          cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
      import gin
      from tf_agents.policies import py_tf_eager_policy
      from ibc_agents.train import train_eval
      for index, (gin_file, extra) in enumerate({runs!r}):
        gin.clear_config()
        gin.parse_config_files_and_bindings([gin_file], [
            *{list(easy_particle.bindings)!r}, *extra,
            'train_eval.num_iterations = 10', 'train_eval.eval_interval = 10',
            'train_eval.eval_episodes = 2', 'train_eval.batch_size = 32',
            'train_eval.eval_plot_fn = None',
            "train_eval.strategy = 'mirrored'"])
        root_dir = f'{str(tmp_path)}/run_{{index}}'
        results = train_eval.train_eval(root_dir=root_dir,
                                        dataset={easy_particle.directory!r})
        policy = py_tf_eager_policy.SavedModelPyTFEagerPolicy(
            root_dir + '/policy', load_specs_from_pbtxt=True)
        print('trained', gin_file, results['train_steps'],
              policy.action_spec.shape)
  ''')
  done = subprocess.run(
      [sys.executable, '-c', script], capture_output=True, text=True,
      check=False, cwd=_ROOT, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'))
  assert done.returncode == 0, done.stderr[-3000:]
  for gin_file, _ in runs:
    assert f'trained {gin_file} 10 (2,)' in done.stdout, done.stdout


@pytest.mark.parametrize('bindings, message', [
    (["train_eval.strategy = 'tpu_pod'"],
     r"train_eval.strategy must be one of \('default', 'mirrored', "
     r"'multi_worker', 'tpu'\)"),
    (["train_eval.strategy = 'multi_worker'"], 'needs the TF_CONFIG'),
    (["train_eval.strategy = 'tpu'"], "train_eval.strategy = 'tpu' found no TPU"),
])
def test_unknown_or_unconfigured_strategy_is_refused_saying_why(
    easy_particle, tmp_path, monkeypatch, bindings, message):
  monkeypatch.delenv('TF_CONFIG', raising=False)
  gin.clear_config()
  gin.parse_config_files_and_bindings(
      ['gin_configs/particle/mse.gin'], [*easy_particle.bindings, *bindings])
  try:
    with pytest.raises(ValueError, match=message):
      train_eval.train_eval(root_dir=str(tmp_path),
                            dataset=easy_particle.directory)
  finally:
    gin.clear_config()


def test_global_batch_must_split_evenly_over_the_replicas():
  assert distribution.replica_batch_size(256, 2) == 128
  with pytest.raises(ValueError, match=r'batch_size \(255\) must be a '
                     r'multiple of the number of replicas \(2\)'):
    distribution.replica_batch_size(255, 2)


def _multi_worker_round(easy_particle, address, root_dir, ports, steps):
  """Runs two multi_worker trainers to `steps`; returns their outputs."""
  cluster = {'worker': [f'localhost:{port}' for port in ports]}
  processes = []
  for index in range(2):
    tf_config = json.dumps({'cluster': cluster,
                            'task': {'type': 'worker', 'index': index}})
    processes.append(subprocess.Popen(
        [sys.executable, '-m', 'ibc_agents.train',
         '--gin_file=gin_configs/particle/mse.gin', '--strategy=multi_worker',
         f'--replay_server={address}', f'--root_dir={root_dir}',
         *[f'--gin_bindings={binding}' for binding in (
             *easy_particle.bindings, f'train_eval.num_iterations = {steps}',
             'train_eval.checkpoint_interval = 20', 'train_eval.log_interval = 20',
             'train_eval.eval_interval = 20', 'train_eval.eval_episodes = 2',
             'train_eval.batch_size = 64')]],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=_ROOT,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2', TF_CONFIG=tf_config)))
  outputs = [process.communicate(timeout=600) for process in processes]
  for process, (_, stderr) in zip(processes, outputs):
    assert process.returncode == 0, stderr[-3000:]
  return [stdout for stdout, _ in outputs]


def test_two_multi_worker_processes_train_in_step_and_only_the_chief_writes(
    easy_particle, start_replay_server, free_port, tmp_path):
  server = start_replay_server(easy_particle.directory)
  ports = (free_port(), free_port())
  for steps in (40, 60):  # the second round resumes from the chief's checkpoint
    chief, worker = _multi_worker_round(easy_particle, server.address,
                                        tmp_path, ports, steps)
    assert 'success_rate=' in chief and 'run_dir=' in chief
    assert 'Trained in step with the chief' in worker
    assert 'success_rate=' not in worker

    def losses(stdout):
      return re.findall(r'^step (\d+)/\d+ .* loss (\S+)', stdout, re.M)

    # One synchronous training: both replicas see the same reduced loss.
    assert losses(chief) == losses(worker)
    assert losses(chief)[-1][0] == str(steps)
  assert 'step 20/' not in chief  # restored at 40
  with open(tmp_path / 'results.json') as f:
    assert json.load(f)['train_steps'] == 60
  # Only the chief writes summaries: one event file per round.
  assert len(list((tmp_path / 'train').glob('events.out.tfevents.*'))) == 2


@pytest.mark.parametrize('tf_config, problem', [
    ('{"cluster": {"worker": ["a:1"]}', 'it is not JSON'),
    ('["a:1"]', 'it is not a JSON object'),
    ('{"cluster": {"worker": ["a:1", "b:2"]}}', 'it has no "task"'),
    ('{"cluster": {}, "task": {"type": "worker", "index": 0}}',
     'its "cluster" must map task types'),
    ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "chief"}}',
     "its task type 'chief' is not in the cluster"),
    ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", '
     '"index": 3}}', 'its task index 3 is not one of the 1 worker addresses'),
])
def test_malformed_tf_config_is_refused_naming_it(tf_config, problem):
  with pytest.raises(ValueError) as refused:
    distribution.cluster_of(tf_config)
  assert 'needs the TF_CONFIG environment variable' in str(refused.value)
  assert problem in str(refused.value)


def test_a_worker_that_never_starts_is_named_while_waiting_and_after(
    free_port):
  absent = f'127.0.0.1:{free_port()}'
  cluster = {'worker': [f'127.0.0.1:{free_port()}', absent]}
  script = textwrap.dedent(f'''
      import os, json
      os.environ['TF_CONFIG'] = json.dumps({{
          'cluster': {cluster!r}, 'task': {{'type': 'worker', 'index': 0}}}})
      import gin
      from ibc_agents.train import distribution
      gin.parse_config(['wait_for_peers.timeout_seconds = 4',
                        'wait_for_peers.report_seconds = 1'])
      try:
        distribution.make_strategy('multi_worker')
      except TimeoutError as error:
        print('refused:', error)
  ''')
  done = subprocess.run(
      [sys.executable, '-c', script], capture_output=True, text=True,
      check=True, cwd=_ROOT, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'),
      timeout=120)
  assert f'worker 0 is waiting for worker 1 at {absent}' in done.stdout
  assert re.search(rf'refused: worker 0 waited \d+ s for worker 1 at {absent}, '
                   'which never started', done.stdout), done.stdout
