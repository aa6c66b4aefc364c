r"""Command line: serve demonstrations to trainers from a process of their own.

    python -m data_tools.replay_server --dataset=data/particle --task=PARTICLE \
        --history_length=2 [--port=8000] [--host=127.0.0.1] \
        [--gin_file=...] [--gin_bindings=...]

Gin files and bindings configure the task as the trainers' do, e.g. the
trainers' own gin file, or `--gin_bindings='import
environments.particle.particle_env' --gin_bindings='ParticleEnv.n_dim = 4'`.

Loads the dataset into the same Reverb tables an embedded training serves
(`data_tools.replay`), prints `Serving ... at HOST:PORT`, and serves until
SIGINT or SIGTERM. Trainers read it with `python -m ibc_agents.train ...
--replay_server=HOST:PORT`; any number of them can share it.

Reverb listens on every interface without authentication and cannot bind
one address. So, unless `--host` asks for every interface (`0.0.0.0`), the
server moves into a network namespace of its own and relays to it from a
socket bound to `--host` only (loopback by default). Where the kernel
forbids namespaces, it warns and listens on every interface.
"""
import signal
import socket
import threading

from absl import app
from absl import flags
from absl import logging

from data_tools import forwarding
from data_tools import network_isolation

flags.DEFINE_string('dataset', None,
                    'Demonstrations: a dataset directory or a glob of shards.')
flags.DEFINE_string('task', None, 'Registered task, e.g. PARTICLE.')
flags.DEFINE_integer('history_length', 2,
                     "Steps per window: the trainers' "
                     'train_eval.history_length.')
flags.DEFINE_integer('port', 0, 'Port to serve on (0: any free port).')
flags.DEFINE_string('host', '127.0.0.1',
                    'Address to serve on: loopback by default; 0.0.0.0 '
                    'serves every interface (other hosts\' trainers).')
flags.DEFINE_multi_string('gin_file', [], 'gin files configuring the task.')
flags.DEFINE_multi_string('gin_bindings', [],
                          "gin bindings configuring the task (e.g. "
                          "'ParticleEnv.n_dim = 4').")
flags.mark_flags_as_required(['dataset', 'task'])
FLAGS = flags.FLAGS

_EVERY_INTERFACE = ('0.0.0.0', '::', '')


def _listen(host: str, port: int) -> socket.socket:
  """A listening TCP socket on (host, port), in this namespace."""
  family = socket.AF_INET6 if ':' in host else socket.AF_INET
  try:
    return socket.create_server((host, port), family=family, backlog=64)
  except OSError as e:
    raise app.UsageError(f'Cannot listen on {host}:{port}: {e}.') from None


def main(argv):
  if len(argv) > 1:
    raise app.UsageError('Too many command-line arguments.')
  if FLAGS.history_length < 1:
    raise app.UsageError(
        f'--history_length must be >= 1, got {FLAGS.history_length}.')
  if not 0 <= FLAGS.port < 65536:
    raise app.UsageError(f'--port must be in [0, 65535], got {FLAGS.port}.')
  listener = None
  if FLAGS.host not in _EVERY_INTERFACE:
    listener = _listen(FLAGS.host, FLAGS.port)
    try:
      network_isolation.isolate_network()
    except OSError as error:
      logging.warning(
          'Could not move the Reverb server into a network namespace of its '
          'own (%s): it listens on every interface, without authentication '
          '(README, "Trust model").', error)
      port = listener.getsockname()[1]
      listener.close()
      listener = None
      FLAGS.port = port
  _serve(listener)


def _serve(listener) -> None:
  """Loads the demonstrations and serves them until SIGINT or SIGTERM."""
  # TensorFlow starts threads, so it is imported only now, once the process
  # has moved into its namespace.
  # pylint: disable=g-import-not-at-top
  import gin
  import environments
  from data_tools import demos
  from data_tools import replay

  gin.parse_config_files_and_bindings(FLAGS.gin_file, FLAGS.gin_bindings,
                                      finalize_config=False)
  if FLAGS.task not in environments.known_tasks():
    raise app.UsageError(
        f'Unknown --task {FLAGS.task!r}; registered: '
        f'{", ".join(environments.known_tasks())}.')
  env = environments.make(FLAGS.task)
  try:
    data_spec = demos.trajectory_spec_from_env(env)
  finally:
    env.close()
  stop = threading.Event()
  for signum in (signal.SIGINT, signal.SIGTERM):
    signal.signal(signum, lambda *_: stop.set())
  with replay.DemonstrationReplay.from_dataset(
      FLAGS.dataset, FLAGS.task, data_spec, FLAGS.history_length,
      port=None if listener or not FLAGS.port else FLAGS.port) as served:
    if listener is None:
      address = f'{FLAGS.host or "0.0.0.0"}:{served.server.port}'
      relay = None
    else:
      relay = forwarding.Forwarder(
          listener, ('127.0.0.1', served.server.port)).start()
      host, port = relay.address
      address = f'[{host}]:{port}' if ':' in host else f'{host}:{port}'
    info = served.info
    print(f'Serving {served.num_items} windows ({info.num_episodes} episodes, '
          f'{info.num_steps} steps of {FLAGS.dataset}; task {FLAGS.task}, '
          f'history {FLAGS.history_length}) at {address}', flush=True)
    while not stop.wait(timeout=1.0):
      pass
    if relay is not None:
      relay.close()
  print('Stopped.', flush=True)


if __name__ == '__main__':
  app.run(main)
