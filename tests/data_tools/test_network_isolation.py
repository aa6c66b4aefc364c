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


_FAILURES = {
    # Ubuntu 24.04's AppArmor policy: unshare succeeds, the uid map is refused.
    'uid_map': ('n._map_ids = lambda uid, gid: (_ for _ in ()).throw(OSError('
                '1, "writing /proc/self/uid_map: Operation not permitted"))',
                '[Errno 1] writing /proc/self/uid_map: Operation not permitted'),
    # Docker's and Kubernetes' default seccomp profiles refuse unshare.
    'seccomp': ('n._unshare = lambda: (_ for _ in ()).throw(OSError('
                '1, "unshare: Operation not permitted"))',
                '[Errno 1] unshare: Operation not permitted'),
    'not_linux': ('n.sys.platform = "darwin"',
                  'network namespaces are Linux only, not darwin'),
}


def _run_with_failure(failure: str, module: str, *argv: str, timeout=120):
  """Runs `python -m module argv` with isolation failing as `failure` says."""
  script = textwrap.dedent(f'''
      import runpy, sys
      from data_tools import network_isolation as n
      {_FAILURES[failure][0]}
      sys.argv = [{module!r}, *{list(argv)!r}]
      runpy.run_module({module!r}, run_name='__main__')
  ''')
  return subprocess.Popen([sys.executable, '-c', script],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, env=_ENV)


@pytest.mark.parametrize('failure', sorted(_FAILURES))
def test_probe_reports_why_isolation_fails_and_leaves_the_process_as_it_was(
    failure):
  script = textwrap.dedent(f'''
      import os, socket
      from data_tools import network_isolation as n
      before = os.readlink('/proc/self/ns/net')
      {_FAILURES[failure][0]}
      print('probe:', n.probe())
      assert os.readlink('/proc/self/ns/net') == before
      with socket.create_server(('127.0.0.1', 0)) as server:
        socket.create_connection(server.getsockname()).close()
      print('loopback works')
  ''')
  done = subprocess.run([sys.executable, '-c', script], capture_output=True,
                        text=True, env=_ENV, check=True)
  assert f'probe: {_FAILURES[failure][1]}' in done.stdout
  assert 'loopback works' in done.stdout


@pytest.mark.parametrize('failure', sorted(_FAILURES))
def test_isolated_training_is_refused_with_the_reason_where_it_cannot_work(
    failure, tmp_path):
  process = _run_with_failure(failure, 'ibc_agents.train',
                              '--gin_file=gin_configs/particle/mse.gin',
                              f'--dataset={tmp_path}', '--network=isolated')
  _, stderr = process.communicate(timeout=120)
  assert process.returncode != 0
  assert (f'--network=isolated cannot work here: {_FAILURES[failure][1]}'
          in stderr)


def test_server_that_cannot_isolate_says_it_listens_everywhere_and_serves(
    easy_particle):
  """Ubuntu 24.04's case: unshare works, the uid map is refused."""
  failure = 'uid_map'
  process = _run_with_failure(
      failure, 'data_tools.replay_server',
      f'--dataset={easy_particle.directory}', '--task=PARTICLE', '--port=0')
  try:
    for line in process.stdout:
      if line.startswith('Serving'):
        break
    port = int(line.strip().rsplit(':', 1)[1])
    script = ('import reverb\n'
              f'print(sorted(reverb.Client("127.0.0.1:{port}").server_info(10)))')
    tables = subprocess.run([sys.executable, '-c', script],
                            capture_output=True, text=True, env=_ENV,
                            check=True)
    assert "'demonstrations'" in tables.stdout
  finally:
    process.terminate()
    _, stderr = process.communicate(timeout=60)
  assert 'it listens on EVERY interface of this machine' in stderr
  assert _FAILURES[failure][1] in stderr


def _net_namespace(pid: int) -> str:
  return os.readlink(f'/proc/{pid}/ns/net')


def _children(pid: int) -> list[int]:
  children = []
  for task in os.listdir(f'/proc/{pid}/task'):
    with open(f'/proc/{pid}/task/{task}/children') as f:
      children += [int(child) for child in f.read().split()]
  return children


def _particle_training(easy_particle, root_dir, *flags: str) -> list[str]:
  """The train command on the easy particle data, 2 evaluation episodes."""
  return [sys.executable, '-m', 'ibc_agents.train',
          '--gin_file=gin_configs/particle/mse.gin',
          f'--dataset={easy_particle.directory}', f'--root_dir={root_dir}',
          *[f'--gin_bindings={binding}' for binding in easy_particle.bindings],
          '--gin_bindings=train_eval.eval_episodes = 2', *flags]


def test_training_keeps_its_namespace_and_its_server_child_leaves_it(
    easy_particle, tmp_path, namespaces_allowed):
  training = subprocess.Popen(
      _particle_training(easy_particle, tmp_path,
                         '--gin_bindings=train_eval.sample_in_memory = False',
                         '--gin_bindings=train_eval.num_iterations = 400',
                         '--gin_bindings=train_eval.log_interval = 50'),
      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_ENV)
  try:
    for line in training.stdout:
      if line.startswith('step 50/'):
        break
    assert _net_namespace(training.pid) == _net_namespace(os.getpid())
    (server,) = _children(training.pid)
    assert (_net_namespace(server) != _net_namespace(os.getpid())
            ) == namespaces_allowed
    stdout, _ = training.communicate(timeout=300)
  finally:
    if training.poll() is None:
      training.kill()
  assert training.returncode == 0
  assert 'Network: loopback only' not in stdout
  assert 'success_rate=' in stdout


@needs_namespaces
def test_training_asked_to_be_isolated_is_loopback_only(easy_particle,
                                                        tmp_path):
  done = subprocess.run(
      _particle_training(easy_particle, tmp_path, '--network=isolated',
                         '--gin_bindings=train_eval.num_iterations = 20'),
      capture_output=True, text=True, env=_ENV, check=True)
  assert 'Network: loopback only (--network=isolated).' in done.stdout
  assert 'success_rate=' in done.stdout


@needs_namespaces
def test_isolated_training_that_reads_a_server_is_refused_from_its_config(
    tmp_path):
  """The server is set through gin, not a flag: the parsed config decides."""
  done = subprocess.run(
      [sys.executable, '-m', 'ibc_agents.train',
       '--gin_file=gin_configs/particle/mse.gin', f'--root_dir={tmp_path}',
       '--network=isolated',
       "--gin_bindings=train_eval.replay_server = '127.0.0.1:18030'"],
      capture_output=True, text=True, env=_ENV, check=False)
  assert done.returncode != 0
  assert ('--network=isolated leaves this training loopback only, but it '
          'reads the demonstration server at 127.0.0.1:18030') in done.stderr
