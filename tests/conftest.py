"""Fixtures shared by the test suite, and bfloat16 tests on an emulated CPU.

TensorFlow is imported by the fixtures that need it, not here.
"""
import dataclasses
import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
from typing import Callable, Optional

import pytest

_REPO = pathlib.Path(__file__).resolve().parents[1]
_ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2')
# oneDNN ISA levels (ONEDNN_MAX_CPU_ISA) below AVX-512.
_ISAS_WITHOUT_AVX512 = frozenset(
    {'SSE41', 'AVX', 'AVX2', 'AVX2_VNNI', 'AVX2_VNNI_2'})


def _cpu_has_avx512f() -> bool:
  try:
    cpuinfo = pathlib.Path('/proc/cpuinfo').read_text()
  except OSError:
    return False
  return any(line.startswith('flags') and 'avx512f' in line.split()
             for line in cpuinfo.splitlines())


def _emulates_cpu_without_avx512() -> bool:
  """Whether ONEDNN_MAX_CPU_ISA caps an AVX-512 CPU below AVX-512.

  TensorFlow 2.15 sends bfloat16 ops to oneDNN when CPUID reports AVX512F and
  to Eigen otherwise. Under the cap CPUID still reports AVX512F, so bfloat16
  ops reach oneDNN kernels that the cap removed, and the process crashes.
  """
  return (os.environ.get('ONEDNN_MAX_CPU_ISA', '').upper()
          in _ISAS_WITHOUT_AVX512
          and os.environ.get('TF_ENABLE_ONEDNN_OPTS') != '0'
          and _cpu_has_avx512f())


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
  """Under the emulated CPU, runs a `bfloat16` test as that CPU would.

  The test runs again in a child process with TF_ENABLE_ONEDNN_OPTS=0, which
  sends bfloat16 ops to Eigen, the kernels a CPU without AVX-512 runs.
  """
  if (pyfuncitem.get_closest_marker('bfloat16') is None
      or not _emulates_cpu_without_avx512()):
    return None
  completed = subprocess.run(
      [sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider',
       pyfuncitem.nodeid],
      cwd=pyfuncitem.config.rootpath, capture_output=True, text=True,
      env=dict(os.environ, TF_ENABLE_ONEDNN_OPTS='0'), check=False)
  assert completed.returncode == 0, (
      f'{pyfuncitem.nodeid} with bfloat16 on Eigen:\n'
      f'{completed.stdout[-4000:]}{completed.stderr[-2000:]}')
  return True


@pytest.fixture(scope='session')
def anchor_dir() -> pathlib.Path:
  """Real demonstrations in the reference format (../shared beside the checkout)."""
  path = pathlib.Path(os.environ.get(
      'IBC_ANCHOR_SAMPLES', _REPO.parent / 'shared' / 'data' / 'anchor_samples'))
  if not (path / 'door-human-v0').is_dir():
    raise FileNotFoundError(
        f'Anchor samples not found at {path}; set IBC_ANCHOR_SAMPLES.')
  return path


@dataclasses.dataclass(frozen=True)
class EasyParticle:
  """Demonstrations of an easier PARTICLE variant, and the bindings for it.

  Wider goals; the oracle turns to the second goal at half the goal
  tolerance, so that a clone that aims a little off the first goal still
  reaches it; and episodes end once the task is complete, so a clone need not
  hold still at the second goal for the rest of the 50 steps.
  """
  directory: str
  bindings: tuple[str, ...] = ('import environments.particle.oracle',
                               'ParticleEnv.goal_tolerance = 0.08',
                               'ParticleEnv.end_on_success = True',
                               'ParticleOracle.goal_threshold = 0.04')

  def random_policy_success_rate(self, num_episodes: int) -> float:
    """Success of uniform random actions on the evaluation episodes."""
    import gin  # pylint: disable=g-import-not-at-top
    from tf_agents.policies import random_py_policy  # pylint: disable=g-import-not-at-top
    from ibc_agents.train import evaluation  # pylint: disable=g-import-not-at-top
    from ibc_agents.train import train_eval  # pylint: disable=g-import-not-at-top
    gin.clear_config()
    gin.parse_config(['import environments.particle.particle_env',
                      *self.bindings])
    try:
      env = train_eval.make_env('PARTICLE', history_length=2)
      random_policy = random_py_policy.RandomPyPolicy(
          env.time_step_spec(), env.action_spec(), outer_dims=(num_episodes,))
      return evaluation.evaluate(
          random_policy, lambda seed: train_eval.make_env('PARTICLE', 2, seed),
          num_episodes=num_episodes, seed=1_000_000).success_rate
    finally:
      gin.clear_config()


@pytest.fixture(scope='module')
def easy_particle(tmp_path_factory) -> EasyParticle:
  """300 oracle episodes of the task with wider goals."""
  from data_tools import collect  # pylint: disable=g-import-not-at-top
  demos = EasyParticle(str(tmp_path_factory.mktemp('easy_particle')))
  collect.collect('PARTICLE', num_episodes=300, output_dir=demos.directory,
                  num_workers=2, seed=0, gin_bindings=[
                      'import environments.particle.particle_env',
                      *demos.bindings])
  return demos


@pytest.fixture(scope='module')
def train_easy_particle(easy_particle) -> Callable[..., dict]:
  """Trains on the easy demonstrations: fn(gin_file, root_dir, *bindings).

  Returns the training's results; the gin config is cleared around it.
  """
  import gin  # pylint: disable=g-import-not-at-top
  from ibc_agents.train import train_eval  # pylint: disable=g-import-not-at-top

  def train(gin_file: str, root_dir: str, *bindings: str) -> dict:
    gin.clear_config()
    gin.parse_config_files_and_bindings(
        [gin_file], [*easy_particle.bindings, *bindings])
    try:
      return train_eval.train_eval(root_dir=root_dir,
                                   dataset=easy_particle.directory)
    finally:
      gin.clear_config()

  return train

_PARTICLE_TASK_FLAGS = ('--task=PARTICLE',
                       '--gin_bindings=import environments.particle.particle_env')


def _free_port() -> int:
  with socket.socket() as sock:
    sock.bind(('127.0.0.1', 0))
    return sock.getsockname()[1]


@pytest.fixture
def free_port() -> Callable[[], int]:
  """Returns a function that finds a loopback port nothing listens on."""
  return _free_port


class ServerProcess:
  """A demonstration server process; `address` once it serves."""

  def __init__(self, dataset: str, *flags: str, port: Optional[int] = None):
    self.process = subprocess.Popen(
        [sys.executable, '-m', 'data_tools.replay_server',
         f'--dataset={dataset}', f'--port={port or 0}', *flags],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_ENV,
        cwd=str(_REPO))
    self.stdout = []
    for line in self.process.stdout:
      self.stdout.append(line)
      match = re.search(r' at (\S+:\d+)$', line.strip())
      if line.startswith('Serving') and match:
        self.address = match.group(1)
        self.port = int(self.address.rsplit(':', 1)[1])
        return
    raise RuntimeError('The server ended before serving: '
                       f'{self.process.stderr.read()[-3000:]}')

  def stop(self, signum: int = signal.SIGTERM) -> subprocess.CompletedProcess:
    """Sends `signum` and waits; returns the exit status and the output."""
    self.process.send_signal(signum)
    stdout, stderr = self.process.communicate(timeout=60)
    return subprocess.CompletedProcess(self.process.args,
                                       self.process.returncode,
                                       ''.join(self.stdout) + stdout, stderr)

  def __enter__(self) -> 'ServerProcess':
    return self

  def __exit__(self, *unused_exc) -> None:
    if self.process.poll() is None:
      self.process.kill()
      self.process.communicate()


@pytest.fixture(scope='session')
def namespaces_allowed() -> bool:
  """Whether this kernel lets a process move into its own network namespace."""
  probe = subprocess.run(
      [sys.executable, '-c', 'from data_tools import network_isolation as n\n'
       'n.isolate_network()'], capture_output=True, env=_ENV, check=False,
      cwd=str(_REPO))
  return probe.returncode == 0


@pytest.fixture
def start_replay_server() -> Callable[..., ServerProcess]:
  """Starts `python -m data_tools.replay_server` on a PARTICLE dataset.

  Called as start(dataset, *flags, port=None); every server started is
  killed at the end of the test if it still runs.
  """
  servers = []

  def start(dataset: str, *flags: str,
            port: Optional[int] = None) -> ServerProcess:
    servers.append(ServerProcess(dataset, *_PARTICLE_TASK_FLAGS, *flags,
                                 port=port))
    return servers[-1]

  yield start
  for server in servers:
    server.__exit__()
