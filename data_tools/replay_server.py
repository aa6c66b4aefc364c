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
forbids namespaces (tried first in a child process), it warns that it
listens on every interface. Only this process writes its tables: a write by
any other client after loading stops the server with an error naming the
table, and the trainers reading it stop too.
"""
import os
import signal
import socket
import sys
import threading

from absl import app
from absl import flags
from absl import logging

from data_tools import console
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
flags.DEFINE_string('data_spec_file', None,
                    'The trajectory spec of the windows, as '
                    '`tf_agents.specs.tensor_spec.to_pbtxt_file` writes it, '
                    'instead of building the task\'s environment (how a '
                    'trainer starts its own server).')
flags.DEFINE_integer('parent_pid', 0,
                     'Stop when this process (the trainer that started the '
                     'server) is gone; 0: serve until a signal.')
flags.mark_flags_as_required(['dataset', 'task'])
FLAGS = flags.FLAGS

_EVERY_INTERFACE = ('0.0.0.0', '::')
_WATCH_SECONDS = 1.0  # how often the tables are checked for foreign writes
# How long emptied, altered tables still answer, so that trainers watching
# them (every 2 s) read why before the server goes.
_ALTERED_GRACE_SECONDS = 6.0


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
  if not FLAGS.host.strip():
    raise app.UsageError(
        '--host is empty: give the address to serve on, 127.0.0.1 (this '
        'machine only, the default) or 0.0.0.0 (every interface).')
  listener = None
  if FLAGS.host in _EVERY_INTERFACE:
    if FLAGS.port:  # Reverb's own error would not name the port
      _listen(FLAGS.host, FLAGS.port).close()
  else:
    listener = _listen(FLAGS.host, FLAGS.port)
    problem = network_isolation.probe()
    if problem is None:
      network_isolation.isolate_network()
    else:
      logging.warning(
          'Could not move the Reverb server into a network namespace of its '
          'own (%s): it listens on EVERY interface of this machine, without '
          'authentication, so any host that reaches this machine can read '
          'and write its tables (README, "Trust model").', problem)
      port = listener.getsockname()[1]
      listener.close()
      listener = None
      FLAGS.port = port
  console.quiet_start()
  if not FLAGS['verbosity'].present:  # libraries' INFO lines: --verbosity=0
    logging.set_verbosity(logging.WARNING)
  _serve(listener)


def _data_spec():
  """The windows' trajectory spec: from --data_spec_file, or the task's env."""
  # pylint: disable=g-import-not-at-top
  import environments
  from data_tools import demos
  from tf_agents.specs import tensor_spec

  if FLAGS.task not in environments.known_tasks():
    raise app.UsageError(
        f'Unknown --task {FLAGS.task!r}; registered: '
        f'{", ".join(environments.known_tasks())}.')
  if FLAGS.data_spec_file:
    return tensor_spec.from_pbtxt_file(FLAGS.data_spec_file)
  environments.import_modules(FLAGS.task)
  import gin
  gin.parse_config_files_and_bindings(FLAGS.gin_file, FLAGS.gin_bindings,
                                      finalize_config=False)
  env = environments.make(FLAGS.task)
  try:
    return demos.trajectory_spec_from_env(env)
  finally:
    env.close()


def _serve(listener) -> None:
  """Loads the demonstrations and serves them until SIGINT or SIGTERM.

  Exits with `replay.ALTERED_EXIT_STATUS` if another client writes to the
  tables.
  """
  # TensorFlow starts threads, so it is imported only now, once the process
  # has moved into its namespace.
  # pylint: disable=g-import-not-at-top
  import reverb
  from data_tools import demos
  from data_tools import replay

  data_spec = _data_spec()
  stop = threading.Event()
  for signum in (signal.SIGINT, signal.SIGTERM):
    signal.signal(signum, lambda *_: stop.set())
  try:
    served = replay.DemonstrationReplay.from_dataset(
        FLAGS.dataset, FLAGS.task, data_spec, FLAGS.history_length,
        port=None if listener or not FLAGS.port else FLAGS.port)
  except demos.DemoFileError as error:
    raise app.UsageError(str(error)) from None
  with served:
    if listener is None:
      address = f'{FLAGS.host}:{served.server.port}'
      relay = None
    else:
      relay = forwarding.Forwarder(
          listener, ('127.0.0.1', served.server.port)).start()
      host, port = relay.address
      address = f'[{host}]:{port}' if ':' in host else f'{host}:{port}'
    info = served.info
    client = reverb.Client(served.address)
    loaded = replay.table_writes(client.server_info())
    print(f'Serving {served.num_items} windows ({info.num_episodes} episodes, '
          f'{info.num_steps} steps of {FLAGS.dataset}; task {FLAGS.task}, '
          f'history {FLAGS.history_length}) at {address}', flush=True)
    altered = None
    while not altered and not stop.wait(timeout=_WATCH_SECONDS):
      altered = replay.altered_table(loaded, client.server_info())
      if FLAGS.parent_pid and os.getppid() != FLAGS.parent_pid:
        stop.set()  # the trainer that started this server is gone
    if altered:  # serve no window more, but answer while trainers read why
      client.reset(replay.TABLE_NAME)
      stop.wait(timeout=_ALTERED_GRACE_SECONDS)
    if relay is not None:
      relay.close()
  if altered:
    print(f'Stopped: this server {altered}. Start it again to serve the '
          'dataset as loaded.', file=sys.stderr, flush=True)
    sys.exit(replay.ALTERED_EXIT_STATUS)
  print('Stopped.', flush=True)


if __name__ == '__main__':
  app.run(main)
