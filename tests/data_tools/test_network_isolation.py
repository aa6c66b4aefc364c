"""Training processes keep their Reverb server off the network."""
import os
import subprocess
import sys
import textwrap

import pytest

_ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2')


def _namespaces_allowed() -> bool:
  probe = subprocess.run(
      [sys.executable, '-c', 'from data_tools import network_isolation as n\n'
       'n.isolate_network()'], capture_output=True, env=_ENV, check=False)
  return probe.returncode == 0


needs_namespaces = pytest.mark.skipif(
    not _namespaces_allowed(),
    reason='the kernel refuses unprivileged user and network namespaces')


@needs_namespaces
def test_isolated_process_serves_reverb_on_loopback_only():
  script = textwrap.dedent('''
      from data_tools import network_isolation
      network_isolation.isolate_network()
      assert network_isolation.only_loopback()
      import reverb
      server = reverb.Server([reverb.Table.queue('q', 10)])
      client = reverb.Client(f'localhost:{server.port}')
      client.insert([1.0], {'q': 1.0})
      print('sampled', next(client.sample('q'))[0].data[0])
  ''')
  done = subprocess.run([sys.executable, '-c', script], capture_output=True,
                        text=True, env=_ENV, check=True)
  assert 'sampled 1.0' in done.stdout


def test_isolation_refuses_a_process_that_already_runs_threads():
  script = textwrap.dedent('''
      import threading, time
      from data_tools import network_isolation
      threading.Thread(target=time.sleep, args=(5,), daemon=True).start()
      try:
        network_isolation.isolate_network()
      except OSError as error:
        print('refused:', error)
  ''')
  done = subprocess.run([sys.executable, '-c', script], capture_output=True,
                        text=True, env=_ENV, check=True)
  assert 'refused: ' in done.stdout and 'threads' in done.stdout


@needs_namespaces
@pytest.mark.parametrize('network, isolated', [('isolated', True),
                                               ('host', False)])
def test_train_command_is_isolated_unless_asked_for_the_host_network(
    easy_particle, tmp_path, network, isolated):
  done = subprocess.run(
      [sys.executable, '-m', 'ibc_agents.train',
       '--gin_file=gin_configs/particle/mse.gin',
       f'--dataset={easy_particle.directory}', f'--root_dir={tmp_path}',
       f'--network={network}',
       *[f'--gin_bindings={binding}' for binding in easy_particle.bindings],
       '--gin_bindings=train_eval.num_iterations = 20',
       '--gin_bindings=train_eval.eval_episodes = 2'],
      capture_output=True, text=True, env=_ENV, check=True)
  assert ('Network: loopback only' in done.stdout) == isolated
  assert 'success_rate=' in done.stdout
