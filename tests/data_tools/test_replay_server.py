"""The standalone demonstration server: serves, stops cleanly, refuses."""
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import reverb

from data_tools import dataset_statistics
from data_tools import demos
from data_tools import replay
import environments


def _particle_spec():
  env = environments.make('PARTICLE')
  try:
    return demos.trajectory_spec_from_env(env)
  finally:
    env.close()


def _listening_addresses(port: int) -> set[str]:
  """Local addresses listening on `port` in this network namespace (IPv4)."""
  addresses = set()
  with open('/proc/net/tcp') as table:
    for line in list(table)[1:]:
      local, _, state = line.split()[1:4]
      address, port_hex = local.split(':')
      if state == '0A' and int(port_hex, 16) == port:  # 0A: LISTEN
        addresses.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
  return addresses


def test_server_serves_windows_and_statistics_on_loopback_and_stops_cleanly(
    easy_particle, start_replay_server, namespaces_allowed):
  server = start_replay_server(easy_particle.directory, '--history_length=2')
  assert server.address.startswith('127.0.0.1:')
  if namespaces_allowed:  # else Reverb listens on every interface, warned
    assert _listening_addresses(server.port) == {'127.0.0.1'}
  with replay.RemoteDemonstrations(server.address, _particle_spec(),
                                   sequence_length=2) as served:
    expected = dataset_statistics.DatasetStatistics.load(
        easy_particle.directory)
    assert served.info.task == 'PARTICLE'
    assert served.info.num_episodes == 300 == expected.num_episodes
    np.testing.assert_allclose(served.info.statistics['action']['min'],
                               expected.action_min)
    batch = next(iter(served.as_dataset(batch_size=64))).data
  assert batch.action.shape == (64, 2, 2)
  assert batch.observation['pos_agent'].shape == (64, 2, 2)
  stopped = server.stop(signal.SIGTERM)
  assert stopped.returncode == 0, stopped.stderr[-2000:]
  assert 'Stopped.' in stopped.stdout
  assert not _listening_addresses(server.port)


def test_windows_of_another_length_are_refused_showing_both_signatures(
    easy_particle, start_replay_server):
  server = start_replay_server(easy_particle.directory, '--history_length=2')
  with pytest.raises(ValueError) as refused:
    replay.RemoteDemonstrations(server.address, _particle_spec(),
                                sequence_length=3)
  message = str(refused.value)
  assert 'do not match' in message
  served = next(line for line in message.splitlines()
                if line.startswith('Served: '))
  expected = next(line for line in message.splitlines()
                  if line.startswith('Expected: '))
  assert "'action': '[2, 2] float32'" in served
  assert "'action': '[3, 2] float32'" in expected


def test_unreachable_server_is_an_error_after_a_bounded_wait(free_port):
  address = f'127.0.0.1:{free_port()}'
  start = time.monotonic()
  with pytest.raises(ConnectionError,
                     match=f'No demonstration server answered at {address} '
                     'within 2 s'):
    replay.RemoteDemonstrations(address, _particle_spec(), sequence_length=2,
                                timeout_seconds=2)
  assert time.monotonic() - start < 30


def test_server_asked_for_every_interface_serves_without_a_relay(
    easy_particle, start_replay_server):
  server = start_replay_server(easy_particle.directory, '--host=0.0.0.0')
  assert server.address.startswith('0.0.0.0:') and server.port > 0
  with replay.RemoteDemonstrations(f'127.0.0.1:{server.port}',
                                   _particle_spec(), sequence_length=2) as served:
    assert served.info.num_windows == served.info.num_steps - 300
  assert server.stop().returncode == 0


def _server_command(*flags: str) -> subprocess.CompletedProcess:
  return subprocess.run(
      [sys.executable, '-m', 'data_tools.replay_server', *flags],
      capture_output=True, text=True, check=False, timeout=120,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'))


def test_empty_host_is_refused_rather_than_serving_every_interface(
    easy_particle):
  done = _server_command(f'--dataset={easy_particle.directory}',
                         '--task=PARTICLE', '--host=')
  assert done.returncode != 0
  assert '--host is empty: give the address to serve on' in done.stderr


def test_port_in_use_on_every_interface_is_named(easy_particle):
  with socket.create_server(('0.0.0.0', 0)) as taken:
    port = taken.getsockname()[1]
    done = _server_command(f'--dataset={easy_particle.directory}',
                           '--task=PARTICLE', '--host=0.0.0.0',
                           f'--port={port}')
  assert done.returncode != 0
  assert f'Cannot listen on 0.0.0.0:{port}' in done.stderr


def test_dataset_of_another_task_is_refused_naming_both(easy_particle):
  done = _server_command(f'--dataset={easy_particle.directory}',
                         '--task=REACH')
  assert done.returncode != 0
  assert 'holds demonstrations of task PARTICLE' in done.stderr
  assert 'not of REACH' in done.stderr


def test_a_foreign_write_stops_the_server_naming_the_table(
    easy_particle, start_replay_server):
  server = start_replay_server(easy_particle.directory)
  reverb.Client(server.address).insert(
      np.asarray(b'poisoned', object), {replay.INFO_TABLE_NAME: 1.0})
  stopped = server.process.wait(timeout=60)
  stderr = server.process.stderr.read()
  assert stopped == replay.ALTERED_EXIT_STATUS, stderr[-2000:]
  assert ("had its table 'demonstration_info' altered after loading "
          '(1 inserts, 1 removals)') in stderr  # FIFO: the info evicted
