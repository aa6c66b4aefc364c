r"""Collects oracle demonstrations in parallel worker processes.

  python -m data_tools.collect --task=PARTICLE --num_episodes=200 \
      --output_dir=/tmp/particle_demos --num_workers=4

Each worker runs the task's oracle in its own environment and writes one shard
`<output_dir>/<task>_<worker>.tfrecord` (+ `.spec`) holding only successful,
complete episodes. The parent shows progress, then writes the dataset's
`manifest.json` and `statistics.json` (see `demos.finish_dataset`).

The settings are saved first, in `collection.json` (`collection_settings`).
A collection that was killed resumes when run again with the same settings:
each shard is renamed into place only when complete and depends only on its
worker's seed, so the finished shards are kept, the others are collected
again, and the dataset is the one an uninterrupted run writes.

Workers are started with 'spawn' (TensorFlow is not fork-safe) and parse the
gin files and bindings themselves; gin configurables of lazily imported task
modules need an `import` line (e.g. `import environments.particle.particle_env`
in a gin file or binding).
"""

# Before TensorFlow and gym load, in this process and in the workers (which
# import this module again): their start-up banners say nothing about a run.
from data_tools import console  # pylint: disable=g-bad-import-order
console.quiet_start()

import math  # pylint: disable=g-import-not-at-top,g-bad-import-order
import multiprocessing
import os
import queue as queue_lib
import sys
import threading
import time
import traceback
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence

from absl import app
from absl import flags
from absl import logging
import gin
import numpy as np
import tensorflow as tf
from tf_agents.environments import py_environment
from tf_agents.policies import py_policy
from tf_agents.trajectories import trajectory

import environments
from data_tools import collection_settings
from data_tools import demos

_PARTIAL_SUFFIX = '.partial'  # shard name while its worker is writing it
_POLL_SECONDS = 0.5  # how often the workers are checked
_MAX_ATTEMPTS_FACTOR = 2  # attempts allowed per requested episode (+ slack)
_ATTEMPTS_SLACK = 10


def run_episodes(
    env: py_environment.PyEnvironment, policy: py_policy.PyPolicy,
    action_noise: float = 0.0, seed: int = 0
) -> Iterator[tuple[list[trajectory.Trajectory], bool]]:
  """Yields (episode, success) endlessly, stepping as `PyDriver` does.

  Each episode is a list of unbatched trajectories FIRST, MID..., LAST: the
  LAST one is the driver's boundary step (next_step_type FIRST), as in the
  reference data. `success` is `env.get_info()['success']` at the LAST step.

  With `action_noise` > 0 the environment executes the policy's action plus
  Gaussian noise of that standard deviation per unit of action range,
  clipped to the bounds, while the episode records the policy's own action
  (DART, Laskey et al. 2017): the demonstrations then show how the oracle
  recovers from states a slightly imperfect clone drifts into.
  """
  add_noise = _action_noise_fn(env.action_spec(), action_noise, seed)
  time_step = env.reset()
  policy_state = policy.get_initial_state(batch_size=None)
  episode, success = [], False
  while True:
    action_step = policy.action(time_step, policy_state)
    next_time_step = env.step(add_noise(action_step.action))
    if next_time_step.is_last():
      success = bool(env.get_info()['success'])
    episode.append(trajectory.from_transition(
        time_step, action_step._replace(info=()), next_time_step))
    if time_step.is_last():
      yield episode, success
      episode, success = [], False
      policy_state = policy.get_initial_state(batch_size=None)
    else:
      policy_state = action_step.state
    time_step = next_time_step


def _check_action_noise(action_noise: float) -> None:
  if not (math.isfinite(action_noise) and action_noise >= 0.0):
    raise ValueError(
        f'action_noise must be finite and >= 0, got {action_noise}.')


def _action_noise_fn(action_spec: Any, action_noise: float,
                     seed: int) -> Callable[[np.ndarray], np.ndarray]:
  """Maps an action [A] to a noisy one in bounds; identity without noise."""
  _check_action_noise(action_noise)
  if action_noise == 0.0:
    return lambda action: action
  low = np.broadcast_to(action_spec.minimum, action_spec.shape)
  high = np.broadcast_to(action_spec.maximum, action_spec.shape)
  rng = np.random.default_rng(seed)

  def add_noise(action: np.ndarray) -> np.ndarray:
    noisy = action + rng.normal(size=action.shape) * action_noise * (high - low)
    return np.clip(noisy, low, high).astype(action_spec.dtype)

  return add_noise


def worker_seed(seed: int, worker: int) -> int:
  """Returns worker `worker`'s env seed: independent of the number of workers."""
  return int(np.random.SeedSequence(seed, spawn_key=(worker,))
             .generate_state(1)[0])


def _collect_shard(task: str, num_episodes: int, path: str, seed: int,
                   env_kwargs: Mapping[str, Any], action_noise: float,
                   report_episode: Callable[[], None]) -> int:
  """Writes `num_episodes` successful episodes to `path`; returns the steps.

  The shard is written under a temporary name and renamed when complete, so
  `path` only ever holds a finished shard.
  """
  with console.silenced_native_output():  # pybullet's build and argv notes
    env = environments.make(task, **env_kwargs)
  env.seed(seed)
  oracle = environments.make_oracle(task, env)
  max_attempts = _MAX_ATTEMPTS_FACTOR * num_episodes + _ATTEMPTS_SLACK
  partial = path + _PARTIAL_SUFFIX
  with demos.EpisodeWriter(partial,
                           demos.trajectory_spec_from_env(env)) as writer:
    episodes = run_episodes(env, oracle, action_noise, seed)
    attempts = 0
    while writer.num_episodes < num_episodes and attempts < max_attempts:
      episode, success = next(episodes)
      attempts += 1
      if success:
        writer.write(episode)
        report_episode()
  if writer.num_episodes < num_episodes:
    raise RuntimeError(
        f'The {task} oracle succeeded in only {writer.num_episodes} of '
        f'{attempts} episodes, short of the {num_episodes} requested.')
  tf.io.gfile.rename(partial + '.spec', path + '.spec', overwrite=True)
  tf.io.gfile.rename(partial, path, overwrite=True)
  return writer.num_steps


def _remove_partial_shard(path: str) -> None:
  """Removes the unfinished shard of `path` and its spec, if any."""
  for leftover in (path + _PARTIAL_SUFFIX, path + _PARTIAL_SUFFIX + '.spec'):
    if tf.io.gfile.exists(leftover):
      tf.io.gfile.remove(leftover)


def _worker(worker: int, task: str, num_episodes: int, path: str, seed: int,
            env_kwargs: Mapping[str, Any], action_noise: float,
            gin_files: Sequence[str],
            gin_bindings: Sequence[str], queue: Any) -> None:
  """Process entry point; messages are (worker, kind, payload) tuples.

  Reports ('episode', None) per written episode, then ('done', steps), or
  ('error', traceback) before exiting with the error. Exits, removing its
  unfinished shard, if the collecting process dies.
  """
  _exit_with_parent(path)
  try:
    if gin_files or gin_bindings:
      # Not finalized: task modules register their configurables lazily.
      gin.parse_config_files_and_bindings(gin_files, gin_bindings,
                                          finalize_config=False)
    num_steps = _collect_shard(
        task, num_episodes, path, seed, env_kwargs, action_noise,
        lambda: queue.put((worker, 'episode', None)))
  except BaseException:
    _remove_partial_shard(path)
    queue.put((worker, 'error', traceback.format_exc()))
    raise
  queue.put((worker, 'done', num_steps))


def _exit_with_parent(path: str) -> None:
  """Starts a thread that ends this worker once its parent process is gone.

  A killed parent cannot terminate its workers; orphaned, they would finish
  their shards for nobody and then block on the queue forever.
  """
  # The pid the parent recorded when it started this process: the parent may
  # already be gone by the time the worker has imported its modules.
  parent = multiprocessing.parent_process().pid

  def watch() -> None:
    while os.getppid() == parent:
      time.sleep(_POLL_SECONDS)
    try:  # plain file calls: the main thread may hold TensorFlow's locks
      for leftover in (path + _PARTIAL_SUFFIX,
                       path + _PARTIAL_SUFFIX + '.spec'):
        if os.path.exists(leftover):
          os.remove(leftover)
    finally:
      os._exit(1)  # pylint: disable=protected-access

  threading.Thread(target=watch, daemon=True).start()


def _next_message(queue: Any) -> Optional[tuple[int, str, Any]]:
  """Returns the next worker message, or None after a poll interval."""
  try:
    return queue.get(timeout=_POLL_SECONDS)
  except queue_lib.Empty:
    return None


def _wait_for_workers(processes: Sequence[Any], queue: Any,
                      progress: console.Progress) -> int:
  """Relays progress until every worker is done; returns the total steps.

  Raises:
    RuntimeError: with the worker's traceback when a worker fails, or its exit
      code when it dies without reporting.
  """
  running = set(range(len(processes)))
  num_steps = 0
  while running:
    message = _next_message(queue)
    if message is None:
      dead = [w for w in running if processes[w].exitcode not in (None, 0)]
      if dead:
        raise RuntimeError(
            f'Collection worker {dead[0]} died with exit code '
            f'{processes[dead[0]].exitcode} without reporting an error.')
      continue
    worker, kind, payload = message
    if kind == 'error':
      raise RuntimeError(f'Collection worker {worker} failed:\n{payload}')
    if kind == 'episode':
      progress.update(progress.done + 1)
    else:
      running.discard(worker)
      num_steps += payload
  progress.finish()
  return num_steps


def collect(task: str,
            num_episodes: int,
            output_dir: str,
            num_workers: int = 1,
            seed: int = 0,
            env_kwargs: Optional[Mapping[str, Any]] = None,
            gin_files: Sequence[str] = (),
            gin_bindings: Sequence[str] = (),
            action_noise: float = 0.0) -> list[str]:
  """Collects successful oracle episodes into one shard per worker.

  Args:
    task: a task registered in `environments`, e.g. 'PARTICLE'.
    num_episodes: successful episodes to write, over all shards.
    output_dir: a directory holding no shards yet, or the unfinished
      collection with these settings, which is resumed.
    num_workers: worker processes (at most `num_episodes` are started).
    seed: worker w seeds its environment with `worker_seed(seed, w)`.
    env_kwargs: keyword arguments of `environments.make`.
    gin_files: gin files each worker parses before building its environment.
    gin_bindings: gin bindings each worker parses after `gin_files`.
    action_noise: noise executed on top of the oracle's actions, per unit of
      action range (see `run_episodes`); the recorded actions are the
      oracle's.

  Returns:
    The shard paths, in worker order.

  Raises:
    ValueError: if `task` has no oracle, `num_episodes` or `num_workers` is
      below 1, or `action_noise` is negative or not finite; before any
      worker starts.
    FileExistsError: if `output_dir` holds a finished dataset or foreign
      shards.
    ValueError: if `output_dir` holds an unfinished collection with other
      settings.
    RuntimeError: if a worker fails (with its traceback).
  """
  if num_episodes < 1 or num_workers < 1:
    raise ValueError('num_episodes and num_workers must be >= 1, got '
                     f'{num_episodes} and {num_workers}.')
  _check_action_noise(action_noise)
  if task not in environments.tasks_with_oracle():
    raise ValueError(f'No oracle for task {task!r}; tasks with an oracle: '
                     f'{", ".join(environments.tasks_with_oracle())}.')
  num_workers = min(num_workers, num_episodes)
  settings = collection_settings.describe(
      task, num_episodes, num_workers, seed, env_kwargs, gin_files,
      gin_bindings, action_noise)
  collection_settings.start_or_resume(output_dir, settings)
  paths = [os.path.join(output_dir, f'{task}_{w}.tfrecord')
           for w in range(num_workers)]
  episodes_per_worker = [num_episodes // num_workers +
                         int(w < num_episodes % num_workers)
                         for w in range(num_workers)]
  todo = [w for w in range(num_workers) if not tf.io.gfile.exists(paths[w])]
  if len(todo) < num_workers:
    print(f'collect: resuming in {output_dir}: {num_workers - len(todo)} of '
          f'{num_workers} shards were complete.', file=sys.stderr, flush=True)
  context = multiprocessing.get_context('spawn')
  queue = context.Queue()
  processes = [
      context.Process(
          target=_worker,
          args=(i, task, episodes_per_worker[w], paths[w],
                worker_seed(seed, w), dict(env_kwargs or {}), action_noise,
                list(gin_files), list(gin_bindings), queue),
          daemon=True) for i, w in enumerate(todo)
  ]
  progress = console.Progress(
      'collect', sum(episodes_per_worker[w] for w in todo), 'episodes')
  try:
    for path in paths:  # left by a killed run
      _remove_partial_shard(path)
    for process in processes:
      process.start()
    _wait_for_workers(processes, queue, progress)
  finally:
    for process in processes:
      if process.pid is None:  # start() failed before this one
        continue
      if process.is_alive():
        process.terminate()
      process.join()
    # A worker stopped by terminate() could not remove its unfinished shard.
    for path in paths:
      _remove_partial_shard(path)
  stats = demos.finish_dataset(output_dir, paths)
  print(f'collect: wrote {stats.num_episodes} episodes ({stats.num_steps} '
        f'steps) in {num_workers} shards to {output_dir} in '
        f'{progress.elapsed:.1f} s; statistics and manifest beside them.',
        file=sys.stderr, flush=True)
  return paths


def _define_flags() -> None:
  """Command-line flags, defined only when run as a program so that importing
  `collect` never clashes with another program's flags."""
  flags.DEFINE_string('task', None, 'Registered task, e.g. PARTICLE.')
  flags.DEFINE_integer('num_episodes', None, 'Successful episodes to collect.')
  flags.DEFINE_string('output_dir', None,
                      'Empty directory for shards and statistics.')
  flags.DEFINE_integer('num_workers', 1, 'Worker processes, one shard each.')
  flags.DEFINE_integer('seed', 0, 'Seed the worker seeds derive from.')
  flags.DEFINE_float(
      'action_noise', 0.0, 'Standard deviation of the noise added to the '
      "executed actions, per unit of action range; the oracle's actions are "
      'recorded (DART).')
  flags.DEFINE_multi_string('gin_file', [], 'Gin files to parse.')
  flags.DEFINE_multi_string(
      'gin_bindings', [], 'Gin bindings, e.g. "import '
      'environments.particle.particle_env" then "ParticleEnv.n_dim = 3".')
  flags.mark_flags_as_required(['task', 'num_episodes', 'output_dir'])


def main(argv: Sequence[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError('Too many command-line arguments.')
  args = flags.FLAGS
  if not args['verbosity'].present:  # libraries' INFO lines: --verbosity=0
    logging.set_verbosity(logging.WARNING)
    console.quiet_library_warnings()
  collect(args.task, args.num_episodes, args.output_dir,
          num_workers=args.num_workers, seed=args.seed,
          gin_files=args.gin_file, gin_bindings=args.gin_bindings,
          action_noise=args.action_noise)


if __name__ == '__main__':
  _define_flags()
  app.run(main)
