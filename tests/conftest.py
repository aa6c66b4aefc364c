"""Fixtures shared by the test suite, and bfloat16 tests on an emulated CPU."""
import os
import pathlib
import subprocess
import sys

import pytest

_REPO = pathlib.Path(__file__).resolve().parents[1]
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
