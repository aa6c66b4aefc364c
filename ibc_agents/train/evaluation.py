"""Policy evaluation on many environments stepped in lockstep."""
import dataclasses
import functools
import multiprocessing
from typing import (Any, Callable, Dict, List, Mapping, Optional, Protocol,
                    Sequence, Tuple)

import gin
import numpy as np
import tensorflow as tf
from tf_agents.environments import py_environment
from tf_agents.policies import py_policy
from tf_agents.utils import nest_utils

from data_tools import console


@dataclasses.dataclass
class EvalResult:
  """Averages over the evaluation episodes.

  The normalized score (e.g. D4RL's, 0 = random, 100 = expert) is None for
  tasks without reference returns. `info_rates` holds, for each boolean entry
  of the environments' final `get_info()` other than 'success' (e.g.
  PUSH_MULTIMODAL's p1 and p2), the fraction of episodes where it was true.
  """
  success_rate: float
  avg_return: float
  avg_episode_length: float
  eval_episodes: int
  normalized_score_mean: Optional[float] = None
  normalized_score_std: Optional[float] = None
  info_rates: Dict[str, float] = dataclasses.field(default_factory=dict)

  def as_dict(self) -> Dict[str, float]:
    """The fields that have a value, `info_rates`' entries among them."""
    fields = {name: value for name, value in dataclasses.asdict(self).items()
              if value is not None and name != 'info_rates'}
    return {**fields, **self.info_rates}


def format_result(result: Mapping[str, Any]) -> str:
  """The one line the command lines print: `success_rate=0.900 ...`."""
  line = (f'success_rate={result["success_rate"]:.3f} '
          f'avg_return={result["avg_return"]:.3f} '
          f'eval_episodes={result["eval_episodes"]}')
  if 'normalized_score_mean' in result:
    line += f' normalized_score={result["normalized_score_mean"]:.1f}'
  return line


@gin.configurable(denylist=['policy', 'env_factory', 'num_episodes', 'seed',
                             'normalize_return', 'num_workers'])
def evaluate(policy: py_policy.PyPolicy,
             env_factory: Callable[[int], py_environment.PyEnvironment],
             num_episodes: int,
             seed: int = 0,
             normalize_return: Optional[Callable[[float], float]] = None,
             num_workers: int = 1,
             max_live_episodes: Optional[int] = None) -> EvalResult:
  """Runs one episode in each of `num_episodes` seeded environments.

  The live environments step together so the policy acts on one batch
  [E, ...] per step: a sampling-based policy costs one search per step, not
  one per episode. The batch holds the episodes still running only, padded
  to a power of two by repeating some of them, so that a traced policy sees
  few shapes and a search costs what the live episodes need. Success is each
  environment's `get_info()['success']` at the end of its episode; its other
  boolean entries there give `info_rates`. With `num_workers` > 1 the
  environments step in that many processes (each holding a contiguous share, built under this
  process's gin config); the policy still acts here on the same batches, so
  the results are the same as in one process. With `max_live_episodes`, the
  episodes run in consecutive waves of at most that many environments, each
  wave closed before the next opens: memory is bounded by the wave (a
  rendering pybullet client holds about 42 MB). A policy whose action for an
  observation does not depend on the rest of its batch (`IbcPolicy`'s keyed
  draws, MSE, greedy MDN) gives the same results in any wave size and
  whichever episodes are still running.

  Args:
    policy: a batched policy (e.g. `PyTFEagerPolicy`, a loaded SavedModel).
    env_factory: builds the environment for a seed; with `num_workers` > 1
      it must pickle (e.g. a `functools.partial` of a module function).
    num_episodes: number of episodes (and environments).
    seed: the first environment's seed; the others follow it.
    normalize_return: maps an episode return to the task's normalized score;
      when given, the result has its mean and (population) std over episodes.
    num_workers: processes stepping the environments (1: this process).
    max_live_episodes: the most environments alive at once (None: all);
      gin-configurable (`evaluate.max_live_episodes = 20`) for the
      evaluations of training and of `python -m ibc_agents.evaluate`.
  """
  if num_episodes < 1:
    raise ValueError(f'num_episodes must be positive, got {num_episodes}.')
  if num_workers < 1:
    raise ValueError(f'num_workers must be positive, got {num_workers}.')
  if max_live_episodes is not None and max_live_episodes < 1:
    raise ValueError('max_live_episodes must be positive or None, got '
                     f'{max_live_episodes}.')
  wave_size = min(max_live_episodes or num_episodes, num_episodes)
  seeds = [seed + index for index in range(num_episodes)]
  success = np.zeros(num_episodes, bool)
  returns = np.zeros(num_episodes)
  lengths = np.zeros(num_episodes)
  infos: List[Dict[str, Any]] = [{} for _ in range(num_episodes)]
  envs = (_LocalEnvironments(env_factory) if num_workers == 1 else
          _EnvironmentWorkers(env_factory, min(num_workers, wave_size)))
  progress = console.Progress('evaluate', num_episodes, 'episodes')
  try:
    for start in range(0, num_episodes, wave_size):
      wave = slice(start, min(start + wave_size, num_episodes))
      envs.open(seeds[wave])
      success[wave], returns[wave], lengths[wave], infos[wave] = (
          _run_episodes(policy, envs, lambda ended, start=start:
                        progress.update(start + ended)))
      envs.close_all()
  finally:
    envs.shut_down()
  progress.finish()
  result = EvalResult(success_rate=float(success.mean()),
                      avg_return=float(returns.mean()),
                      avg_episode_length=float(lengths.mean()),
                      eval_episodes=num_episodes,
                      info_rates=_info_rates(infos))
  if normalize_return is not None:
    scores = np.array([normalize_return(float(r)) for r in returns])
    result.normalized_score_mean = float(scores.mean())
    result.normalized_score_std = float(scores.std())
  return result


def _info_rates(infos: Sequence[Mapping[str, Any]]) -> Dict[str, float]:
  """Fraction of episodes each boolean final-info entry (not 'success') held."""
  names = sorted({name for info in infos for name, value in info.items()
                  if name != 'success' and isinstance(value, (bool, np.bool_))})
  return {name: float(np.mean([bool(info.get(name, False)) for info in infos]))
          for name in names}


def _run_episodes(policy: py_policy.PyPolicy, envs: '_Environments',
                  on_step: Callable[[int], None]
                  ) -> Tuple[np.ndarray, np.ndarray, np.ndarray,
                             List[Dict[str, Any]]]:
  """One episode in each open environment: success, return, length [E] and
  the final `get_info()` of each.

  `on_step(episodes ended)` is called after every step of the batch.
  """
  time_steps = envs.reset()
  count = len(time_steps)
  done = np.zeros(count, bool)
  success = np.zeros(count, bool)
  returns = np.zeros(count)
  lengths = np.zeros(count)
  infos: List[Dict[str, Any]] = [{} for _ in range(count)]
  policy_state = policy.get_initial_state(count)
  while not done.all():
    active = np.flatnonzero(~done)
    rows = np.resize(active, min(count, 1 << (len(active) - 1).bit_length()))
    batch = nest_utils.stack_nested_arrays([time_steps[i] for i in rows])
    action_step = policy.action(batch, tf.nest.map_structure(
        lambda leaf: np.asarray(leaf)[rows], policy_state))
    actions = np.asarray(action_step.action)[:len(active)]
    policy_state = tf.nest.map_structure(
        functools.partial(_set_rows, active), policy_state, action_step.state)
    for index, (time_step, info) in zip(active, envs.step(active, actions)):
      time_steps[index] = time_step
      returns[index] += time_step.reward
      lengths[index] += 1
      if time_step.is_last():
        done[index] = True
        success[index] = bool(info['success'])
        infos[index] = info
    on_step(int(done.sum()))
  return success, returns, lengths, infos


def _set_rows(rows: np.ndarray, leaf: Any, new: Any) -> np.ndarray:
  """`leaf` [E, ...] with `rows` set to the first len(rows) rows of `new`."""
  leaf = np.array(leaf)
  leaf[rows] = np.asarray(new)[:len(rows)]
  return leaf


# A stepped environment's new time step, and at its last step its
# `get_info()` (None before).
_Stepped = Tuple[Any, Optional[Dict[str, Any]]]


def _step_all(envs: Sequence[py_environment.PyEnvironment],
              indices: Sequence[int], actions: np.ndarray) -> List[_Stepped]:
  stepped = []
  for index, action in zip(indices, actions):
    time_step = envs[index].step(action)
    info = dict(envs[index].get_info()) if time_step.is_last() else None
    stepped.append((time_step, info))
  return stepped


def _close_all(envs: List[py_environment.PyEnvironment]) -> None:
  while envs:
    envs.pop().close()


class _Environments(Protocol):
  """Environments opened a wave at a time, stepped by their index in it."""

  def open(self, seeds: Sequence[int]) -> None:
    ...

  def reset(self) -> List[Any]:
    ...

  def step(self, indices: Sequence[int],
           actions: np.ndarray) -> List[_Stepped]:
    ...

  def close_all(self) -> None:
    ...

  def shut_down(self) -> None:
    ...


class _LocalEnvironments:
  """The environments, built and stepped in this process."""

  def __init__(self, env_factory: Callable[[int], Any]):
    self._env_factory = env_factory
    self._envs = []

  def open(self, seeds: Sequence[int]) -> None:
    self._envs.extend(self._env_factory(seed) for seed in seeds)

  def reset(self) -> List[Any]:
    return [env.reset() for env in self._envs]

  def step(self, indices: Sequence[int],
           actions: np.ndarray) -> List[_Stepped]:
    return _step_all(self._envs, indices, actions)

  def close_all(self) -> None:
    _close_all(self._envs)

  def shut_down(self) -> None:
    self.close_all()


def _worker(connection, env_factory: Callable[[int], Any],
            gin_config: str) -> None:
  """A worker process's loop: ('open', seeds), ('reset',),
  ('step', indices, actions), ('close',); None ends it."""
  gin.parse_config(gin_config)
  envs = []
  try:
    while True:
      command = connection.recv()
      if command is None:
        return
      if command[0] == 'open':
        envs.extend(env_factory(seed) for seed in command[1])
        connection.send(None)
      elif command[0] == 'reset':
        connection.send([env.reset() for env in envs])
      elif command[0] == 'close':
        _close_all(envs)
        connection.send(None)
      else:
        connection.send(_step_all(envs, *command[1:]))
  finally:
    _close_all(envs)


class _EnvironmentWorkers:
  """The environments, in `num_workers` processes with contiguous shares."""

  def __init__(self, env_factory: Callable[[int], Any], num_workers: int):
    context = multiprocessing.get_context('spawn')
    self._starts = np.zeros(1, int)
    self._connections = []
    self._processes = []
    gin_config = gin.config_str()
    for _ in range(num_workers):
      ours, theirs = context.Pipe()
      process = context.Process(
          target=_worker, args=(theirs, env_factory, gin_config), daemon=True)
      process.start()
      theirs.close()
      self._connections.append(ours)
      self._processes.append(process)

  def _receive(self, connection) -> Any:
    try:
      return connection.recv()
    except EOFError:
      raise RuntimeError('An evaluation worker process ended unexpectedly '
                         '(its exit codes: '
                         f'{[p.exitcode for p in self._processes]}).') from None

  def _ask_all(self, command: Tuple[Any, ...]) -> List[Any]:
    for connection in self._connections:
      connection.send(command)
    return [self._receive(connection) for connection in self._connections]

  def open(self, seeds: Sequence[int]) -> None:
    bounds = np.linspace(0, len(seeds), len(self._connections) + 1)
    self._starts = bounds.astype(int)
    for connection, start, end in zip(self._connections, self._starts[:-1],
                                      self._starts[1:]):
      connection.send(('open', list(seeds[start:end])))
    for connection in self._connections:
      self._receive(connection)

  def reset(self) -> List[Any]:
    return [time_step for time_steps in self._ask_all(('reset',))
            for time_step in time_steps]

  def step(self, indices: Sequence[int],
           actions: np.ndarray) -> List[_Stepped]:
    owners = np.searchsorted(self._starts, indices, side='right') - 1
    busy = []
    for worker, connection in enumerate(self._connections):
      mine = owners == worker
      if mine.any():
        local_indices = np.asarray(indices)[mine] - self._starts[worker]
        connection.send(('step', local_indices, np.asarray(actions)[mine]))
        busy.append(connection)
    return [stepped for connection in busy
            for stepped in self._receive(connection)]

  def close_all(self) -> None:
    self._ask_all(('close',))

  def shut_down(self) -> None:
    for connection in self._connections:
      try:
        connection.send(None)
      except (BrokenPipeError, OSError):
        pass
    for process in self._processes:
      process.join(timeout=30)
      if process.is_alive():
        process.kill()
