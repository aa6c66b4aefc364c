"""Train and evaluate a behavioural-cloning agent from demonstrations.

The run directory holds checkpoints and TensorBoard summaries (train/, eval/),
the greedy policy as a SavedModel (policy/; with validation episodes also the
best-validated one, best_policy/), the operative gin config and results.json.
Running the same command again resumes from the last checkpoint.
"""
import contextlib
import fcntl
import functools
import inspect
import json
import os
import re
import sys
import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple, Union

from absl import logging
import gin
import tensorflow as tf
from tf_agents.environments import py_environment
from tf_agents.environments import wrappers
from tf_agents.policies import policy_saver
from tf_agents.policies import py_tf_eager_policy
from tf_agents.specs import tensor_spec
from tf_agents.train import learner as tf_agents_learner
from tf_agents.trajectories import trajectory

import environments
from data_tools import demos
from data_tools import memory_replay
from data_tools import replay
from ibc_agents import checks
from ibc_agents.train import evaluation
from ibc_agents import ibc_agent
from ibc_agents import normalization
from ibc_agents.networks import mlp_ebm

POLICY_DIR = 'policy'
BEST_POLICY_DIR = 'best_policy'  # the best on the validation episodes
PLOTS_DIR = 'plots'
VIDEOS_DIR = 'videos'
RESULTS_FILE = 'results.json'
OPERATIVE_CONFIG_FILE = 'operative_config.gin'
STATISTICS_FILE = 'dataset_statistics.json'  # the normalizers' statistics
LOCK_FILE = 'run.lock'  # held by the run using the directory
# The exit status of a training whose demonstration server is lost (as
# sysexits' EX_TEMPFAIL: try again later).
SERVER_LOST_EXIT_STATUS = 75


def make_env(task: str, history_length: int,
             seed: Optional[int] = None) -> py_environment.PyEnvironment:
  """The task's environment with `history_length` stacked observations."""
  return wrappers.HistoryWrapper(
      environments.make(task, seed=seed), history_length=history_length,
      tile_first_step_obs=True)


@gin.configurable
def train_eval(root_dir: str,
               dataset: Optional[str] = None,
               task: str = 'PARTICLE',
               history_length: int = 2,
               batch_size: int = 256,
               num_iterations: int = 5000,
               learning_rate: float = 1e-3,
               learning_rate_decay: float = 1.0,
               network_class: Callable[..., tf.Module] = mlp_ebm.MLPEBM,
               agent_class: Callable[..., tf.Module] = ibc_agent.ImplicitBCAgent,
               eval_interval: int = 1000,
               eval_episodes: int = 50,
               eval_seed: int = 1_000_000,
               eval_workers: int = 1,
               validation_episodes: int = 0,
               validation_seed: int = 2_000_000,
               checkpoint_interval: int = 1000,
               summary_interval: int = 100,
               log_interval: int = 100,
               eval_plot_fn: Optional[Callable[..., None]] = None,
               eval_video_fn: Optional[Callable[..., None]] = None,
               seed: int = 0,
               strategy: str = 'default',
               replay_server: Optional[str] = None,
               sample_in_memory: bool = False,
               tpu: str = '') -> Dict[str, Any]:
  """Trains on demonstrations, evaluating and exporting the policy on the way.

  Under `strategy='multi_worker'` every worker runs this with the same
  arguments; only the chief writes into `root_dir` (checkpoints, summaries,
  the policy, results), evaluates and holds the directory's lock; the other
  workers restore from its checkpoints and train in step with it.

  Args:
    root_dir: run directory; an existing one is resumed.
    dataset: demonstration shards: a dataset directory or a glob. Not read
      when `replay_server` is given.
    task: registered task name (see `environments.make`).
    history_length: observations stacked for the policy (train windows T).
    batch_size: demonstration windows per train step.
    num_iterations: total train steps.
    learning_rate: Adam's initial learning rate.
    learning_rate_decay: learning-rate factor reached at `num_iterations`
      (exponential decay; 1.0 keeps it constant).
    network_class: builds the network from (observation_spec, action_spec).
    agent_class: builds the agent from (time_step_spec, action_spec, network,
      optimizer, **normalizers).
    eval_interval: train steps between evaluations (and policy exports).
    eval_episodes: episodes per evaluation.
    eval_seed: seed of the first evaluation environment.
    eval_workers: processes that step the evaluation environments (the
      policy acts in this one, so results do not depend on it).
    validation_episodes: if positive, every evaluation also runs this many
      episodes from `validation_seed`, and the policy with the best
      validation success so far (ties: the higher validation return, then
      the earlier step) is exported to `best_policy/`; results['best']
      gives its step and its validation and evaluation figures. The
      selection sees only the validation episodes, so the evaluation
      success reported for the chosen step is not inflated by the choice
      (a policy whose success falls late in training keeps its best).
    validation_seed: seed of the first validation environment; the
      validation seeds must not overlap the evaluation's.
    checkpoint_interval: train steps between checkpoints.
    summary_interval: train steps between TensorBoard summaries.
    log_interval: train steps between progress lines.
    eval_plot_fn: after each evaluation, called as fn(path, agent, task,
      history_length, seed) to draw a PNG into `root_dir/plots/` (e.g.
      `energy_plot.plot_oracle_state` for a 2D action).
    eval_video_fn: after each evaluation, called as fn(path, policy, task,
      history_length, seed) to write a GIF into `root_dir/videos/` (e.g.
      `video.write_episode_gif`); `policy` is the batched eager policy.
    seed: TensorFlow's global seed. Windows sampled by a Reverb server do
      not follow it, so two runs of one seed differ; with
      `sample_in_memory` the windows' draws follow it too.
    strategy: the `tf.distribute` strategy of the training (see
      `make_strategy`): 'default' (one device), 'mirrored' (every local
      GPU, or every logical CPU), 'multi_worker' (the processes TF_CONFIG
      names) or 'tpu'. `batch_size` stays the global batch.
    replay_server: HOST:PORT of a `data_tools.replay_server` to read the
      demonstrations (and their statistics) from, instead of loading
      `dataset` into a server of this process. If the server stops
      answering for `RemoteDemonstrations.lost_after_seconds`, the process
      ends with status `SERVER_LOST_EXIT_STATUS` and its last checkpoint
      intact.
    sample_in_memory: hold `dataset`'s windows in this process's memory and
      sample them there (`memory_replay.InMemoryDemonstrations`) instead of
      serving them from an embedded Reverb server: the same windows and
      distribution, without the server's sampling and decoding on the step's
      cores (the whole dataset must fit in memory). Does not apply to
      demonstrations from `replay_server`.
    tpu: the TPU for `strategy='tpu'` (its name or grpc:// address; empty:
      the local TPU).

  Returns:
    The final results (the chief's; {} on the other workers), also written
    to `root_dir/results.json`.
  """
  for name in ('history_length', 'batch_size', 'num_iterations',
               'eval_interval', 'eval_episodes', 'eval_workers',
               'checkpoint_interval',
               'summary_interval', 'log_interval'):
    checks.integer(f'train_eval.{name}', locals()[name])
  for name in ('eval_seed', 'seed', 'validation_episodes',
               'validation_seed'):
    checks.integer(f'train_eval.{name}', locals()[name], minimum=0)
  if (validation_episodes and
      validation_seed < eval_seed + eval_episodes and
      eval_seed < validation_seed + validation_episodes):
    raise ValueError(
        f'The validation episodes (seeds {validation_seed} to '
        f'{validation_seed + validation_episodes - 1}) overlap the '
        f'evaluation episodes (seeds {eval_seed} to '
        f'{eval_seed + eval_episodes - 1}): a policy chosen on them would be '
        'scored on the episodes it was chosen on. Move '
        'train_eval.validation_seed.')
  checks.real('train_eval.learning_rate', learning_rate, low=1e-12)
  checks.real('train_eval.learning_rate_decay', learning_rate_decay,
              low=1e-12, high=1.0)
  if dataset is None and replay_server is None:
    raise ValueError('No demonstrations: set train_eval.dataset (a dataset '
                     'directory or glob) or train_eval.replay_server.')
  distribution = make_strategy(strategy, tpu)
  replica_batch_size = _replica_batch_size(
      batch_size, distribution.num_replicas_in_sync)
  chief, worker_index = worker_role(distribution)
  with _exclusive_run_dir(root_dir) if chief else contextlib.nullcontext():
    if chief:
      _remove_temporary_files(root_dir)
    # Workers draw different counter-examples; variables start as the chief's.
    tf.random.set_seed(seed + worker_index)
    time_step_spec, action_spec, data_spec = _specs(task, history_length)
    with _demonstrations(dataset, replay_server, sample_in_memory, task,
                         data_spec, history_length) as demonstrations:
      results = _train(
          root_dir, demonstrations, distribution, chief,
          time_step_spec=time_step_spec, action_spec=action_spec,
          data_spec=data_spec, task=task, history_length=history_length,
          replica_batch_size=replica_batch_size,
          num_iterations=num_iterations, learning_rate=learning_rate,
          learning_rate_decay=learning_rate_decay,
          network_class=network_class, agent_class=agent_class,
          eval_interval=eval_interval, eval_episodes=eval_episodes,
          eval_seed=eval_seed, eval_workers=eval_workers,
          validation_episodes=validation_episodes,
          validation_seed=validation_seed,
          checkpoint_interval=checkpoint_interval,
          summary_interval=summary_interval, log_interval=log_interval,
          eval_plot_fn=eval_plot_fn, eval_video_fn=eval_video_fn)
    if chief:  # again: evaluation has now also used the policy's parameters
      _write_operative_config(root_dir)
    return results


def _demonstrations(
    dataset: Optional[str], replay_server: Optional[str],
    sample_in_memory: bool, task: str, data_spec: trajectory.Trajectory,
    history_length: int
) -> Union[replay.ServedDemonstrations, memory_replay.InMemoryDemonstrations]:
  """The demonstrations: a standalone server's, or `dataset` held here."""
  if replay_server is None:
    source = (memory_replay.InMemoryDemonstrations if sample_in_memory
              else replay.DemonstrationReplay)
    served = source.from_dataset(dataset, task, data_spec, history_length)
    where = ('sampled in memory' if sample_in_memory
             else 'served by an embedded Reverb server')
    print(f'Loaded {served.info.num_episodes} episodes '
          f'({served.info.num_steps} steps) from {dataset}, {where}.',
          flush=True)
    return served
  served = replay.RemoteDemonstrations(replay_server, data_spec,
                                       history_length)
  if served.info.task != task:
    raise ValueError(
        f'The demonstration server at {replay_server} serves task '
        f'{served.info.task!r}, this training is on {task!r}.')
  if dataset is not None:
    logging.warning('train_eval.dataset (%s) is not read: the demonstrations '
                    'come from the server at %s.', dataset, replay_server)
  if sample_in_memory:
    logging.warning('train_eval.sample_in_memory does not apply: the '
                    'demonstrations come from the server at %s.',
                    replay_server)
  print(f'Reading {served.info.num_episodes} episodes '
        f'({served.info.num_steps} steps of {served.info.dataset}) from the '
        f'demonstration server at {replay_server}.', flush=True)
  return served


def _train(root_dir: str,
           demonstrations: Union[replay.ServedDemonstrations,
                                 memory_replay.InMemoryDemonstrations],
           distribution: tf.distribute.Strategy,
           chief: bool, *, time_step_spec, action_spec, data_spec, task: str,
           history_length: int, replica_batch_size: int, num_iterations: int,
           learning_rate: float, learning_rate_decay: float, network_class,
           agent_class, eval_interval: int, eval_episodes: int, eval_seed: int,
           eval_workers: int, validation_episodes: int, validation_seed: int,
           checkpoint_interval: int, summary_interval: int,
           log_interval: int,
           eval_plot_fn, eval_video_fn) -> Dict[str, Any]:
  """Builds the agent and its `Learner`, and trains (see `train_eval`)."""
  info = demonstrations.info
  statistics = demos.DatasetStatistics.from_json(
      info.statistics, f'the statistics of {info.dataset}')
  with distribution.scope():
    train_step = tf.Variable(0, dtype=tf.int64, trainable=False,
                             name='train_step')
    agent = _build_agent(
        time_step_spec, action_spec, data_spec, statistics, train_step,
        network_class=network_class, agent_class=agent_class,
        learning_rate=learning_rate, learning_rate_decay=learning_rate_decay,
        num_iterations=num_iterations)

  learner = tf_agents_learner.Learner(
      root_dir, train_step, agent,
      experience_dataset_fn=lambda: demonstrations.as_dataset(
          replica_batch_size),
      # Only the chief writes; a worker's Learner only restores.
      checkpoint_interval=checkpoint_interval if chief else -1,
      summary_interval=summary_interval if chief else 0,
      strategy=distribution,
      use_reverb_v2=True)
  previous = _read_results(root_dir) if chief else {}
  # Evaluations after the restored checkpoint are made again; an exported
  # best policy stays what it was measured to be, so it stays the best.
  history = [entry for entry in previous.get('eval_history', [])
             if entry['step'] <= int(learner.train_step_numpy)]
  best = dict(previous.get('best', {}))
  if chief:
    _write_operative_config(root_dir)
    with tf.io.gfile.GFile(os.path.join(root_dir, STATISTICS_FILE), 'w') as f:
      json.dump(info.statistics, f)
    eval_fn = _make_eval_fn(root_dir, agent, task, history_length,
                            eval_episodes, eval_seed, eval_workers,
                            validation_episodes, validation_seed, best,
                            eval_plot_fn, eval_video_fn)
  else:
    eval_fn = None

  def save_results(results: Dict[str, Any]) -> None:
    results['dataset_episodes'] = info.num_episodes
    results['dataset_steps'] = info.num_steps
    if results['steps_per_sec'] is None:  # nothing trained in this run
      results['steps_per_sec'] = previous.get('steps_per_sec')
    if best:
      results['best'] = dict(best)
    with tf.io.gfile.GFile(os.path.join(root_dir, RESULTS_FILE), 'w') as f:
      json.dump(results, f, indent=2)

  if isinstance(demonstrations, replay.RemoteDemonstrations):
    demonstrations.watch(functools.partial(_stop_for_lost_server, root_dir))
  try:
    return _train_loop(learner, num_iterations, eval_interval, log_interval,
                       eval_fn, history, save_results)
  except tf.errors.OutOfRangeError:
    step = int(learner.train_step_numpy)
    for trigger in learner.triggers:  # keep every step trained so far
      trigger(step, force_trigger=True)
    raise RuntimeError(
        f'The demonstration table at {demonstrations.address} stopped '
        f'serving windows at step {step} (no sample within '
        f'{replay.SAMPLE_TIMEOUT_SECONDS:.0f} s: the table was reset or '
        'wiped, or its server stopped). '
        + (f'The run is checkpointed at step {step} in {root_dir}; run the '
           'same command again to resume'
           if chief else 'The chief checkpoints the run') + '.') from None


def _build_agent(time_step_spec, action_spec, data_spec,
                 statistics: demos.DatasetStatistics, train_step: tf.Variable,
                 *, network_class, agent_class, learning_rate: float,
                 learning_rate_decay: float, num_iterations: int):
  """The agent, its network, optimizer and normalizers (see `train_eval`)."""
  return agent_class(
      time_step_spec, action_spec,
      network_class(time_step_spec.observation, action_spec),
      tf.keras.optimizers.Adam(
          tf.keras.optimizers.schedules.ExponentialDecay(
              learning_rate, num_iterations, learning_rate_decay)),
      observation_normalizer=normalization.ObservationNormalizer(
          statistics.observation_mean, statistics.observation_std),
      action_normalizer=normalization.ActionNormalizer(
          action_spec, statistics.action_min, statistics.action_max),
      training_data_spec=data_spec,
      train_step_counter=train_step)


def restore_agent(root_dir: str):
  """The agent of the run in `root_dir`, at its last checkpoint.

  The agent is built under the current gin config: parse the run's
  (`parse_operative_config`) first, then any bindings that change how its
  policy acts (e.g. `IbcPolicy.num_action_samples`), so that the restored
  weights can be exported with other acting settings.

  Raises:
    ValueError: if the run has no checkpoint.
  """
  arguments = inspect.signature(train_eval).bind_partial()
  arguments.apply_defaults()
  settings = {**arguments.arguments, **gin.get_bindings(train_eval)}
  checkpoint = tf.train.latest_checkpoint(os.path.join(
      root_dir, tf_agents_learner.TRAIN_DIR,
      tf_agents_learner.POLICY_CHECKPOINT_DIR))
  if checkpoint is None:
    raise ValueError(f'{root_dir} holds no training checkpoint.')
  time_step_spec, action_spec, data_spec = _specs(
      settings['task'], settings['history_length'])
  statistics_path = os.path.join(root_dir, STATISTICS_FILE)
  if tf.io.gfile.exists(statistics_path):  # runs since the file was added
    with tf.io.gfile.GFile(statistics_path) as f:
      statistics = demos.DatasetStatistics.from_json(json.load(f),
                                                     statistics_path)
  else:
    statistics = demos.load_or_compute_statistics(settings['dataset'],
                                                  data_spec)
  train_step = tf.Variable(0, dtype=tf.int64, trainable=False,
                           name='train_step')
  agent = _build_agent(
      time_step_spec, action_spec, data_spec, statistics, train_step,
      **{name: settings[name] for name in (
          'network_class', 'agent_class', 'learning_rate',
          'learning_rate_decay', 'num_iterations')})
  agent.initialize()
  tf.train.Checkpoint(agent=agent, train_step=train_step).restore(
      checkpoint).expect_partial()
  return agent


def _stop_for_lost_server(root_dir: str, reason: str) -> None:
  """Ends the process: its train step waits on the lost server for good.

  Only the process can end: the step is blocked inside Reverb's sampler.
  """
  checkpoint = tf.train.latest_checkpoint(os.path.join(
      root_dir, tf_agents_learner.TRAIN_DIR,
      tf_agents_learner.POLICY_CHECKPOINT_DIR))
  message = (f'Training stopped: {reason}. ' +
             (f'The last checkpoint, {checkpoint}, is intact'
              if checkpoint else 'No checkpoint was written yet') +
             '; run the same command again once the server is back.')
  logging.error(message)
  print(message, file=sys.stderr, flush=True)
  os._exit(SERVER_LOST_EXIT_STATUS)  # pylint: disable=protected-access


STRATEGIES = ('default', 'mirrored', 'multi_worker', 'tpu')


def make_strategy(name: str, tpu: str = '') -> tf.distribute.Strategy:
  """The `tf.distribute` strategy called `name` (one of `STRATEGIES`).

  'mirrored' replicates the training on every local GPU, or on every
  logical CPU device where there is no GPU. 'multi_worker' trains
  synchronously in the processes that the TF_CONFIG environment variable
  names (each on its local GPUs, or its CPU). 'tpu' trains on the TPU `tpu`
  (empty: the local one).

  Raises:
    ValueError: for an unknown name, 'multi_worker' without TF_CONFIG, or
      'tpu' where no TPU is found.
  """
  if name == 'default':
    return tf.distribute.get_strategy()
  if name == 'mirrored':
    return _mirrored_strategy(tuple(
        device.name for device in (tf.config.list_logical_devices('GPU') or
                                   tf.config.list_logical_devices('CPU'))))
  if name == 'multi_worker':
    if not os.environ.get('TF_CONFIG'):
      raise ValueError(
          "train_eval.strategy = 'multi_worker' needs the TF_CONFIG "
          'environment variable: the cluster and this process\'s task, e.g. '
          '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
          '"task": {"type": "worker", "index": 0}} (README, "Scaling out").')
    return tf.distribute.MultiWorkerMirroredStrategy()
  if name == 'tpu':
    try:
      resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
      tf.config.experimental_connect_to_cluster(resolver)
      tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, tf.errors.OpError) as e:
      raise ValueError(
          f"train_eval.strategy = 'tpu' found no TPU{' ' + tpu if tpu else ''}"
          f' ({type(e).__name__}: {e}).') from None
    return tf.distribute.TPUStrategy(resolver)
  raise ValueError(f'train_eval.strategy must be one of {STRATEGIES}, got '
                   f'{name!r}.')


@functools.lru_cache(maxsize=None)
def _mirrored_strategy(devices: Tuple[str, ...]) -> tf.distribute.Strategy:
  """The process's one MirroredStrategy over `devices`.

  Trainings run one after another in a process share it: a second strategy
  over the same devices reuses the first one's collective keys, and its
  all-reduces then fail on shape mismatches.
  """
  return tf.distribute.MirroredStrategy(list(devices))


def worker_role(distribution: tf.distribute.Strategy) -> Tuple[bool, int]:
  """(whether this process is the chief, its index among the workers).

  The chief is the 'chief' task, or worker 0 in a cluster without one; a
  process outside a cluster is the chief.
  """
  resolver = getattr(distribution, 'cluster_resolver', None)
  cluster = resolver.cluster_spec().as_dict() if resolver else {}
  if not cluster or resolver.task_type is None:
    return True, 0
  task_type, task_id = resolver.task_type, int(resolver.task_id or 0)
  index = task_id + (1 if task_type == 'worker' and 'chief' in cluster else 0)
  chief = task_type == 'chief' or (task_type == 'worker' and task_id == 0 and
                                   'chief' not in cluster)
  return chief, index


def _replica_batch_size(batch_size: int, num_replicas: int) -> int:
  """Each replica's share of the global batch, which must divide evenly."""
  if batch_size % num_replicas:
    raise ValueError(
        f'train_eval.batch_size ({batch_size}) must be a multiple of the '
        f'number of replicas ({num_replicas}).')
  return batch_size // num_replicas


def _specs(task: str, history_length: int):
  """The policy's time step spec, the action spec and the demonstration spec."""
  env = environments.make(task)
  try:
    policy_env = wrappers.HistoryWrapper(env, history_length=history_length,
                                         tile_first_step_obs=True)
    return (tensor_spec.from_spec(policy_env.time_step_spec()),
            tensor_spec.from_spec(env.action_spec()),
            demos.trajectory_spec_from_env(env))
  finally:
    env.close()


@contextlib.contextmanager
def _exclusive_run_dir(root_dir: str) -> Iterator[None]:
  """Holds `root_dir/run.lock` for the run, so that no second run mixes in.

  The lock is the operating system's (`flock`), so the lock of a killed run
  goes with its process and does not block the next run. Directories that
  are not local (`gs://...`) are not locked.

  Raises:
    RuntimeError: naming the directory and the holder's process id, if
      another run holds the lock.
  """
  tf.io.gfile.makedirs(root_dir)
  if '://' in root_dir:  # e.g. gs://: no operating-system lock there
    logging.warning('%s is not local: it is not locked against a second '
                    'run.', root_dir)
    yield
    return
  path = os.path.join(root_dir, LOCK_FILE)
  with open(path, 'a+') as lock:
    try:
      fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      lock.seek(0)
      holder = lock.read().strip() or 'unknown'
      raise RuntimeError(
          f'{root_dir} is in use by another training run (process {holder}); '
          'wait for it to end or choose another --root_dir.') from None
    lock.seek(0)
    lock.truncate()
    lock.write(str(os.getpid()))
    lock.flush()
    try:
      yield
    finally:
      fcntl.flock(lock, fcntl.LOCK_UN)


def _remove_temporary_files(root_dir: str) -> None:
  """Removes what a killed run left half-written: TensorFlow's `*_temp` dirs.

  Checkpoints and SavedModels are written into `<prefix>_temp/` and then
  moved into place, so these hold nothing a later run can use.
  """
  leftovers = [os.path.join(parent, name)
               for parent, dirnames, _ in tf.io.gfile.walk(root_dir)
               for name in dirnames if name.endswith('_temp')]
  for path in leftovers:
    logging.warning('Removing %s, left half-written by an earlier run.', path)
    tf.io.gfile.rmtree(path)


def _read_results(root_dir: str) -> Dict[str, Any]:
  """The results an earlier run in `root_dir` saved; {} if there are none."""
  path = os.path.join(root_dir, RESULTS_FILE)
  if not tf.io.gfile.exists(path):
    return {}
  with tf.io.gfile.GFile(path) as f:
    try:
      return json.load(f)
    except json.JSONDecodeError as e:
      raise ValueError(f'Cannot read the results of an earlier run, {path}: '
                       f'{e}. Move it away to start the history afresh.') from e


# Names that runs written by earlier versions use in their operative config:
# the training modules moved into ibc_agents.train, and the Langevin chains'
# parameters are bound on `langevin_maximize`.
_RENAMED_IN_OPERATIVE_CONFIGS = (
    (re.compile(r'\bibc_agents\.(train_eval|evaluation|energy_plot|video)\b'),
     r'ibc_agents.train.\1'),
    (re.compile(r'\blangevin_actions\.'), 'langevin_maximize.'),
)


def parse_operative_config(root_dir: str) -> None:
  """Parses the operative gin config of the run in `root_dir`.

  Configs written by earlier versions, under the old names, parse too.
  """
  with tf.io.gfile.GFile(os.path.join(root_dir, OPERATIVE_CONFIG_FILE)) as f:
    text = f.read()
  for old, new in _RENAMED_IN_OPERATIVE_CONFIGS:
    text = old.sub(new, text)
  gin.parse_config(text)


def _write_operative_config(root_dir: str) -> None:
  with tf.io.gfile.GFile(os.path.join(root_dir, OPERATIVE_CONFIG_FILE), 'w') as f:
    f.write(gin.operative_config_str())


def _make_eval_fn(root_dir: str, agent, task: str, history_length: int,
                  eval_episodes: int, eval_seed: int, eval_workers: int,
                  validation_episodes: int, validation_seed: int,
                  best: Dict[str, Any],
                  eval_plot_fn: Optional[Callable[..., None]],
                  eval_video_fn: Optional[Callable[..., None]]
                  ) -> Callable[[int], Dict[str, float]]:
  """Evaluates the greedy policy, logs summaries and exports it as a SavedModel.

  The returned function gives an evaluation's figures (with
  `validation_success_rate` and `validation_avg_return` when there are
  validation episodes); it updates `best` and `best_policy/` when the
  validation figures beat `best`'s (see `train_eval`).
  """
  eager_policy = py_tf_eager_policy.PyTFEagerPolicy(
      agent.policy, use_tf_function=True, batch_time_steps=False)
  saver = policy_saver.PolicySaver(agent.policy, train_step=agent.train_step_counter)
  writer = tf.summary.create_file_writer(os.path.join(root_dir, 'eval'))

  def run_episodes(num_episodes: int, seed: int) -> evaluation.EvalResult:
    return evaluation.evaluate(
        eager_policy, functools.partial(make_env, task, history_length),
        num_episodes, seed=seed,
        normalize_return=environments.normalized_score_fn(task),
        num_workers=eval_workers)

  def eval_fn(step: int) -> Dict[str, float]:
    figures = run_episodes(eval_episodes, eval_seed).as_dict()
    if validation_episodes:
      validation = run_episodes(validation_episodes, validation_seed)
      figures.update(validation_success_rate=validation.success_rate,
                     validation_avg_return=validation.avg_return)
    with writer.as_default():
      for name, value in figures.items():
        tf.summary.scalar(f'eval/{name}', value, step=step)
    saver.save(os.path.join(root_dir, POLICY_DIR))
    if validation_episodes and _beats(figures, best):
      saver.save(os.path.join(root_dir, BEST_POLICY_DIR))
      best.clear()
      best.update(step=step, **{name: figures[name] for name in (
          'validation_success_rate', 'validation_avg_return', 'success_rate',
          'avg_return')})
    if eval_plot_fn is not None:
      tf.io.gfile.makedirs(os.path.join(root_dir, PLOTS_DIR))
      eval_plot_fn(os.path.join(root_dir, PLOTS_DIR, f'step_{step:07d}.png'),
                   agent, task, history_length, eval_seed)
    if eval_video_fn is not None:
      tf.io.gfile.makedirs(os.path.join(root_dir, VIDEOS_DIR))
      eval_video_fn(os.path.join(root_dir, VIDEOS_DIR, f'step_{step:07d}.gif'),
                    eager_policy, task, history_length, eval_seed)
    return figures

  return eval_fn


def _beats(figures: Dict[str, float], best: Dict[str, Any]) -> bool:
  """Whether `figures` validate better than `best` (success, then return)."""
  key = ('validation_success_rate', 'validation_avg_return')
  return not best or (tuple(figures[name] for name in key) >
                      tuple(best[name] for name in key))


def _train_loop(learner: tf_agents_learner.Learner, num_iterations: int,
                eval_interval: int, log_interval: int,
                eval_fn: Optional[Callable[[int], Dict[str, float]]],
                history: List[Dict[str, Any]],
                save_fn: Callable[[Dict[str, Any]], None]) -> Dict[str, Any]:
  """Runs the learner to `num_iterations`, printing progress and evaluating.

  Without `eval_fn` (a worker that is not the chief) it only trains, in the
  same chunks as the chief, and returns {}. `history` holds the evaluations
  of earlier runs in the same directory; each evaluation is added to it
  (replacing one at the same step), and `save_fn` gets the results so far
  after each (and may add to them). Returns the results of the last
  evaluation.
  """
  step = int(learner.train_step_numpy)
  train_seconds, trained_steps = 0.0, 0
  last_eval: Optional[Dict[str, float]] = None
  results: Dict[str, Any] = {}

  def evaluate(step: int) -> Dict[str, float]:
    figures = eval_fn(step)
    history[:] = [entry for entry in history if entry['step'] != step]
    history.append(dict(step=step, **figures))
    results.clear()
    results.update(
        figures, train_steps=step,
        steps_per_sec=trained_steps / train_seconds if train_seconds else None,
        eval_history=history)
    save_fn(results)
    return figures

  while step < num_iterations:
    iterations = min(log_interval, num_iterations - step,
                     eval_interval - step % eval_interval)
    start = time.perf_counter()
    loss_info = learner.run(iterations=iterations)
    train_seconds += time.perf_counter() - start
    trained_steps += iterations
    step = int(learner.train_step_numpy)
    if eval_fn and (step % eval_interval == 0 or step >= num_iterations):
      last_eval = evaluate(step)
    eval_text = ('-' if last_eval is None
                 else f'{last_eval["success_rate"]:.2f}')
    if last_eval is not None and 'validation_success_rate' in last_eval:
      eval_text += (f' | validation {last_eval["validation_success_rate"]:.2f}'
                    f' (best {results["best"]["validation_success_rate"]:.2f}'
                    f' at step {results["best"]["step"]})')
    print(f'step {step}/{num_iterations} | '
          f'{trained_steps / max(train_seconds, 1e-9):.1f} steps/s | '
          f'loss {float(loss_info.loss):.4f} | eval success {eval_text}',
          flush=True)
  for trigger in learner.triggers:  # checkpoint the final step
    trigger(step, force_trigger=True)
  if eval_fn and last_eval is None:
    evaluate(step)
  return results
