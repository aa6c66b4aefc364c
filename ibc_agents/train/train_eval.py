"""Train and evaluate a behavioural-cloning agent from demonstrations.

The run directory holds checkpoints and TensorBoard summaries (train/, eval/),
the greedy policy as a SavedModel (policy/; with validation episodes also the
best-validated one, best_policy/), the operative gin config and results.json.
Running the same command again resumes from the last checkpoint.
"""
import contextlib
import functools
import inspect
import json
import os
import re
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Union

from absl import logging
import gin
import numpy as np
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
from data_tools import network_isolation
from data_tools import replay
from data_tools import server_process
from ibc_agents import checks
from ibc_agents.train import checkpoints
from ibc_agents.train import distribution as distribution_lib
from ibc_agents.train import evaluation
from ibc_agents.train import run_dir
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
  distribution = distribution_lib.make_strategy(strategy, tpu)
  replica_batch_size = distribution_lib.replica_batch_size(
      batch_size, distribution.num_replicas_in_sync)
  chief, worker_index = distribution_lib.worker_role(distribution)
  with run_dir.exclusive(root_dir) if chief else contextlib.nullcontext():
    if chief:
      run_dir.remove_temporary_files(root_dir)
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
  """The demonstrations: a standalone server's, or `dataset`'s.

  `dataset` is sampled in this process's memory, or served by a Reverb
  server: in this process when it is already off the network (loopback
  only), else in a child process that keeps the server off the network
  (`server_process.ServerProcess`).
  """
  if replay_server is None:
    if sample_in_memory:
      served = memory_replay.InMemoryDemonstrations.from_dataset(
          dataset, task, data_spec, history_length)
      where = 'sampled in memory'
    elif network_isolation.only_loopback():
      served = replay.DemonstrationReplay.from_dataset(
          dataset, task, data_spec, history_length)
      where = 'served by a Reverb server in this process (loopback only)'
    else:
      served = server_process.ServerProcess(dataset, task, data_spec,
                                            history_length)
      where = f'served by a Reverb server at {served.address}'
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

  if chief:
    checkpoints.set_aside_unreadable(root_dir)
  learner = tf_agents_learner.Learner(
      root_dir, train_step, agent,
      experience_dataset_fn=lambda: demonstrations.as_dataset(
          replica_batch_size),
      # Only the chief writes; a worker's Learner only restores.
      checkpoint_interval=checkpoint_interval if chief else -1,
      summary_interval=summary_interval if chief else 0,
      strategy=distribution,
      use_reverb_v2=True)
  checkpoints.guard_triggers(learner, agent.trainable_variables, root_dir)
  previous = (run_dir.read_json(os.path.join(root_dir, RESULTS_FILE))
              if chief else {})
  # Evaluations after the restored checkpoint are made again; an exported
  # best policy stays what it was measured to be, so it stays the best.
  history = [entry for entry in previous.get('eval_history', [])
             if entry['step'] <= int(learner.train_step_numpy)]
  best = dict(previous.get('best', {}))
  if chief:
    _write_operative_config(root_dir)
    run_dir.write_json(os.path.join(root_dir, STATISTICS_FILE),
                       info.statistics)
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
    run_dir.write_json(os.path.join(root_dir, RESULTS_FILE), results,
                       keep_previous=True)

  if isinstance(demonstrations, replay.RemoteDemonstrations):
    demonstrations.watch(functools.partial(_stop_for_lost_server, root_dir))
  try:
    return _train_loop(
        learner, root_dir, num_iterations, eval_interval, log_interval,
        eval_fn, history, save_results, learning_rate_schedule(
            learning_rate, learning_rate_decay, num_iterations))
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
  try:
    network = network_class(time_step_spec.observation, action_spec)
  except (TypeError, ValueError) as error:
    name = getattr(network_class, '__name__', str(network_class))
    raise ValueError(
        f'{name} cannot be built with its gin bindings '
        f'{gin.get_bindings(network_class)}: {type(error).__name__}: '
        f'{error}') from error
  return agent_class(
      time_step_spec, action_spec, network,
      tf.keras.optimizers.Adam(learning_rate_schedule(
          learning_rate, learning_rate_decay, num_iterations)),
      observation_normalizer=normalization.ObservationNormalizer(
          statistics.observation_mean, statistics.observation_std),
      action_normalizer=normalization.ActionNormalizer(
          action_spec, statistics.action_min, statistics.action_max),
      training_data_spec=data_spec,
      train_step_counter=train_step)


def learning_rate_schedule(
    learning_rate: float, learning_rate_decay: float, num_iterations: int
) -> tf.keras.optimizers.schedules.LearningRateSchedule:
  """Adam's rate: `learning_rate`, then x`learning_rate_decay` at the end."""
  return tf.keras.optimizers.schedules.ExponentialDecay(
      learning_rate, num_iterations, learning_rate_decay)


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
  checkpoint = tf.train.latest_checkpoint(
      checkpoints.checkpoint_dir(root_dir))
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
  checkpoint = tf.train.latest_checkpoint(
      checkpoints.checkpoint_dir(root_dir))
  message = (f'Training stopped: {reason}. ' +
             (f'The last checkpoint, {checkpoint}, is intact'
              if checkpoint else 'No checkpoint was written yet') +
             '; run the same command again once the server serves again.')
  logging.error(message)
  print(message, file=sys.stderr, flush=True)
  os._exit(SERVER_LOST_EXIT_STATUS)  # pylint: disable=protected-access


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
      path = os.path.join(root_dir, PLOTS_DIR, f'step_{step:07d}.png')
      eval_plot_fn(path, agent, task, history_length, eval_seed)
      _summarize_images(writer, 'eval/energy', path, step)
    if eval_video_fn is not None:
      tf.io.gfile.makedirs(os.path.join(root_dir, VIDEOS_DIR))
      path = os.path.join(root_dir, VIDEOS_DIR, f'step_{step:07d}.gif')
      eval_video_fn(path, eager_policy, task, history_length, eval_seed)
      _summarize_images(writer, 'eval/episode_frames', path, step)
    return figures

  return eval_fn


def _summarize_images(writer, tag: str, path: str, step: int,
                      max_frames: int = 8) -> None:
  """A PNG, or up to `max_frames` evenly spaced frames of a GIF, as images."""
  if not tf.io.gfile.exists(path):  # a plot function may draw nothing
    return
  images = tf.io.decode_image(tf.io.read_file(path), channels=3,
                              expand_animations=True)
  frames = images if images.shape.rank == 4 else images[None]
  keep = np.unique(np.linspace(0, frames.shape[0] - 1, max_frames).astype(int))
  with writer.as_default():
    tf.summary.image(tag, tf.gather(frames, keep), step=step,
                     max_outputs=max_frames)


def _beats(figures: Dict[str, float], best: Dict[str, Any]) -> bool:
  """Whether `figures` validate better than `best` (success, then return)."""
  key = ('validation_success_rate', 'validation_avg_return')
  return not best or (tuple(figures[name] for name in key) >
                      tuple(best[name] for name in key))


def _train_loop(learner: tf_agents_learner.Learner, root_dir: str,
                num_iterations: int, eval_interval: int, log_interval: int,
                eval_fn: Optional[Callable[[int], Dict[str, float]]],
                history: List[Dict[str, Any]],
                save_fn: Callable[[Dict[str, Any]], None],
                learning_rate_fn: Callable[[int], Any]) -> Dict[str, Any]:
  """Runs the learner to `num_iterations`, printing progress and evaluating.

  Without `eval_fn` (a worker that is not the chief) it only trains, in the
  same chunks as the chief, and returns {}. A non-finite loss stops it with
  `checkpoints.TrainingDiverged`, before anything is evaluated or exported. `history` holds the evaluations
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
    loss = float(loss_info.loss)
    if not np.isfinite(loss):
      raise checkpoints.diverged_error(root_dir, step, f'the loss is {loss}')
    if eval_fn:  # the chief's TensorBoard summaries beside the Learner's
      with learner.train_summary_writer.as_default():
        tf.summary.scalar('train/learning_rate', learning_rate_fn(step),
                          step=step)
        tf.summary.scalar('train/steps_per_sec',
                          iterations / max(time.perf_counter() - start, 1e-9),
                          step=step)
    if eval_fn and (step % eval_interval == 0 or step >= num_iterations):
      last_eval = evaluate(step)
    eval_text = ('-' if last_eval is None
                 else f'{last_eval["success_rate"]:.2f}')
    if last_eval is not None and 'validation_success_rate' in last_eval:
      eval_text += (f' | validation {last_eval["validation_success_rate"]:.2f}'
                    f' (best {results["best"]["validation_success_rate"]:.2f}'
                    f' at step {results["best"]["step"]})')
    steps_per_sec = trained_steps / max(train_seconds, 1e-9)
    left = int((num_iterations - step) / max(steps_per_sec, 1e-9))
    print(f'step {step}/{num_iterations} | {steps_per_sec:.1f} steps/s | '
          f'loss {loss:.4f} | eval success {eval_text} | '
          f'training ETA {left // 60}:{left % 60:02d}', flush=True)
  for trigger in learner.triggers:  # checkpoint the final step
    trigger(step, force_trigger=True)
  if eval_fn and last_eval is None:
    evaluate(step)
  return results
