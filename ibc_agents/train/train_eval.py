"""Train and evaluate a behavioural-cloning agent from demonstrations.

The run directory holds checkpoints and TensorBoard summaries (train/, eval/),
the greedy policy as a SavedModel (policy/; with validation episodes also the
best-validated one, best_policy/), the operative gin config and results.json.
Running the same command again resumes from the last checkpoint.
"""
import contextlib
import functools
import os
import re
import sys
import time
from typing import Any, Callable, Dict, List, NamedTuple, Optional

from absl import logging
import gin
import numpy as np
import tensorflow as tf
from tf_agents.specs import tensor_spec
from tf_agents.train import learner as tf_agents_learner
from tf_agents.trajectories import time_step as ts
from tf_agents.trajectories import trajectory

from data_tools import dataset_statistics
from data_tools import demos
from data_tools import memory_replay
from data_tools import replay
from ibc_agents import normalization
from ibc_agents.train import checkpoints
from ibc_agents.train import demonstration_source
from ibc_agents.train import distribution as distribution_lib
from ibc_agents.train import periodic_eval
from ibc_agents.train import run_dir
from ibc_agents.train import settings as settings_lib

# The run directory's layout (`run_dir`), under the names callers know.
POLICY_DIR = run_dir.POLICY_DIR
BEST_POLICY_DIR = run_dir.BEST_POLICY_DIR
PLOTS_DIR = run_dir.PLOTS_DIR
VIDEOS_DIR = run_dir.VIDEOS_DIR
RESULTS_FILE = run_dir.RESULTS_FILE
OPERATIVE_CONFIG_FILE = run_dir.OPERATIVE_CONFIG_FILE
STATISTICS_FILE = run_dir.STATISTICS_FILE
# The exit status of a training whose demonstration server is lost (as
# sysexits' EX_TEMPFAIL: try again later).
SERVER_LOST_EXIT_STATUS = 75

make_env = periodic_eval.make_env
TrainEvalSettings = settings_lib.TrainEvalSettings


class _Specs(NamedTuple):
  time_step: ts.TimeStep  # the policy's: observations history-stacked
  action: tensor_spec.BoundedTensorSpec
  data: trajectory.Trajectory  # one demonstration step


def train_eval(root_dir: str, **overrides) -> Dict[str, Any]:
  """Trains on demonstrations, evaluating and exporting the policy on the way.

  Under `strategy='multi_worker'` every worker runs this with the same
  settings; only the chief writes into `root_dir` (checkpoints, summaries,
  the policy, results), evaluates and holds the directory's lock; the other
  workers restore from its checkpoints and train in step with it.

  Args:
    root_dir: run directory; an existing one is resumed.
    **overrides: `TrainEvalSettings` fields, over gin's `train_eval.*`
      bindings.

  Returns:
    The final results (the chief's; {} on the other workers), also written
    to `root_dir/results.json`.
  """
  settings = settings_lib.TrainEvalSettings(**overrides)
  settings.require_demonstrations()
  distribution = distribution_lib.make_strategy(settings.strategy,
                                                settings.tpu)
  chief, worker_index = distribution_lib.worker_role(distribution)
  with run_dir.exclusive(root_dir) if chief else contextlib.nullcontext():
    if chief:
      run_dir.remove_temporary_files(root_dir)
    # Workers draw different counter-examples; variables start as the chief's.
    tf.random.set_seed(settings.seed + worker_index)
    specs = _specs(settings.task, settings.history_length)
    with demonstration_source.open_demonstrations(
        settings, specs.data) as demonstrations:
      results = _train(root_dir, settings, specs, demonstrations,
                       distribution, chief)
    if chief:  # again: evaluation has now also used the policy's parameters
      _write_operative_config(root_dir)
    return results


def _train(root_dir: str, settings: settings_lib.TrainEvalSettings,
           specs: '_Specs', demonstrations: demonstration_source.Demonstrations,
           distribution: tf.distribute.Strategy,
           chief: bool) -> Dict[str, Any]:
  """Builds the agent and its `Learner`, and trains (see `train_eval`)."""
  info = demonstrations.info
  statistics = dataset_statistics.DatasetStatistics.from_json(
      info.statistics, f'the statistics of {info.dataset}')
  replica_batch_size = distribution_lib.replica_batch_size(
      settings.batch_size, distribution.num_replicas_in_sync)
  with distribution.scope():
    train_step = tf.Variable(0, dtype=tf.int64, trainable=False,
                             name='train_step')
    agent = _build_agent(settings, specs, statistics, train_step)

  if chief:
    checkpoints.set_aside_unreadable(root_dir)
  learner = tf_agents_learner.Learner(
      root_dir, train_step, agent,
      experience_dataset_fn=lambda: demonstrations.as_dataset(
          replica_batch_size),
      # Only the chief writes; a worker's Learner only restores.
      checkpoint_interval=settings.checkpoint_interval if chief else -1,
      summary_interval=settings.summary_interval if chief else 0,
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
    held_out = None
    if settings.validation_dataset is not None:
      held_out = iter(memory_replay.InMemoryDemonstrations.from_dataset(
          settings.validation_dataset, settings.task, specs.data,
          settings.history_length).as_dataset(settings.batch_size))
    eval_fn = periodic_eval.make_eval_fn(root_dir, agent, settings, best,
                                         held_out)
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
    return _train_loop(learner, root_dir, settings, eval_fn, history,
                       save_results)
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


def _build_agent(settings: settings_lib.TrainEvalSettings, specs: _Specs,
                 statistics: dataset_statistics.DatasetStatistics,
                 train_step: tf.Variable):
  """The agent, its network, optimizer and normalizers (see `train_eval`)."""
  network_class = settings.network_class
  try:
    network = network_class(specs.time_step.observation, specs.action)
  except (TypeError, ValueError) as error:
    name = getattr(network_class, '__name__', str(network_class))
    raise ValueError(
        f'{name} cannot be built with its gin bindings '
        f'{gin.get_bindings(network_class)}: {type(error).__name__}: '
        f'{error}') from error
  return settings.agent_class(
      specs.time_step, specs.action, network,
      tf.keras.optimizers.Adam(learning_rate_schedule(settings)),
      observation_normalizer=normalization.ObservationNormalizer(
          statistics.observation_mean, statistics.observation_std),
      action_normalizer=normalization.ActionNormalizer(
          specs.action, statistics.action_min, statistics.action_max),
      training_data_spec=specs.data,
      train_step_counter=train_step)


def learning_rate_schedule(
    settings: settings_lib.TrainEvalSettings
) -> tf.keras.optimizers.schedules.LearningRateSchedule:
  """Adam's rate: `learning_rate`, then x`learning_rate_decay` at the end."""
  return tf.keras.optimizers.schedules.ExponentialDecay(
      settings.learning_rate, settings.num_iterations,
      settings.learning_rate_decay)


def restore_agent(root_dir: str):
  """The agent of the run in `root_dir`, at its last checkpoint.

  The agent is built under the current gin config: parse the run's
  (`parse_operative_config`) first, then any bindings that change how its
  policy acts (e.g. `IbcPolicy.num_action_samples`), so that the restored
  weights can be exported with other acting settings.

  Raises:
    ValueError: if the run has no checkpoint.
  """
  settings = settings_lib.TrainEvalSettings()
  checkpoint = tf.train.latest_checkpoint(
      checkpoints.checkpoint_dir(root_dir))
  if checkpoint is None:
    raise ValueError(f'{root_dir} holds no training checkpoint.')
  specs = _specs(settings.task, settings.history_length)
  statistics_path = os.path.join(root_dir, STATISTICS_FILE)
  if tf.io.gfile.exists(statistics_path):  # runs since the file was added
    statistics = dataset_statistics.DatasetStatistics.from_json(
        run_dir.read_json(statistics_path), statistics_path)
  else:
    statistics = demos.load_or_compute_statistics(settings.dataset,
                                                  specs.data)
  train_step = tf.Variable(0, dtype=tf.int64, trainable=False,
                           name='train_step')
  agent = _build_agent(settings, specs, statistics, train_step)
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


def _specs(task: str, history_length: int) -> _Specs:
  """The policy's time step spec, the action spec and the demonstration spec."""
  policy_env = make_env(task, history_length)
  try:
    env = policy_env.wrapped_env()
    return _Specs(tensor_spec.from_spec(policy_env.time_step_spec()),
                  tensor_spec.from_spec(env.action_spec()),
                  demos.trajectory_spec_from_env(env))
  finally:
    policy_env.close()


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


def _train_loop(learner: tf_agents_learner.Learner, root_dir: str,
                settings: settings_lib.TrainEvalSettings,
                eval_fn: Optional[Callable[[int], Dict[str, float]]],
                history: List[Dict[str, Any]],
                save_fn: Callable[[Dict[str, Any]], None]) -> Dict[str, Any]:
  """Runs the learner to `num_iterations`, printing progress and evaluating.

  Without `eval_fn` (a worker that is not the chief) it only trains, in the
  same chunks as the chief, and returns {}. A non-finite loss stops it with
  `checkpoints.TrainingDiverged`, before anything is evaluated or exported.
  `history` holds the evaluations of earlier runs in the same directory;
  each evaluation is added to it (replacing one at the same step), and
  `save_fn` gets the results so far after each (and may add to them).
  Returns the results of the last evaluation.
  """
  num_iterations = settings.num_iterations
  eval_interval = settings.eval_interval
  learning_rate_fn = learning_rate_schedule(settings)
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

  def evaluates_at(step: int) -> bool:
    return step >= num_iterations or (step % eval_interval == 0 and
                                      step >= settings.first_eval_step)

  if (eval_fn and 0 < step < num_iterations and evaluates_at(step)
      and all(entry['step'] != step for entry in history)):
    last_eval = evaluate(step)  # the last run stopped during this evaluation
  while step < num_iterations:
    iterations = min(settings.log_interval, num_iterations - step,
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
    if eval_fn and evaluates_at(step):
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
