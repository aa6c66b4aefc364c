"""Policy evaluation on many environments stepped in lockstep."""
import dataclasses
import multiprocessing
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import gin
import numpy as np
from tf_agents.environments import py_environment
from tf_agents.policies import py_policy
from tf_agents.utils import nest_utils


@dataclasses.dataclass
class EvalResult:
  """Averages over the evaluation episodes.

  The normalized score (e.g. D4RL's, 0 = random, 100 = expert) is None for
  tasks without reference returns.
  """
  success_rate: float
  avg_return: float
  avg_episode_length: float
  eval_episodes: int
  normalized_score_mean: Optional[float] = None
  normalized_score_std: Optional[float] = None

  def as_dict(self) -> Dict[str, float]:
    """The fields that have a value."""
    return {name: value for name, value in dataclasses.asdict(self).items()
            if value is not None}


def format_result(result: Mapping[str, Any]) -> str:
  """The one line the command lines print: `success_rate=0.900 ...`."""
  line = (f'success_rate={result["success_rate"]:.3f} '
          f'avg_return={result["avg_return"]:.3f} '
          f'eval_episodes={result["eval_episodes"]}')
  if 'normalized_score_mean' in result:
    line += f' normalized_score={result["normalized_score_mean"]:.1f}'
  return line


def evaluate(policy: py_policy.PyPolicy,
             env_factory: Callable[[int], py_environment.PyEnvironment],
             num_episodes: int,
             seed: int = 0,
             normalize_return: Optional[Callable[[float], float]] = None,
             num_workers: int = 1) -> EvalResult:
  """Runs one episode in each of `num_episodes` seeded environments.

  All environments step together so the policy acts on one batch [E, ...]
  per step: a sampling-based policy costs one search per step, not one per
  episode. Success is each environment's `get_info()['success']` at the end
  of its episode. With `num_workers` > 1 the environments step in that many
  processes (each holding a contiguous share, built under this process's
  gin config); the policy still acts here on the same batches, so the
  results are the same as in one process.

  Args:
    policy: a batched policy (e.g. `PyTFEagerPolicy`, a loaded SavedModel).
    env_factory: builds the environment for a seed; with `num_workers` > 1
      it must pickle (e.g. a `functools.partial` of a module function).
    num_episodes: number of episodes (and environments).
    seed: the first environment's seed; the others follow it.
    normalize_return: maps an episode return to the task's normalized score;
      when given, the result has its mean and (population) std over episodes.
    num_workers: processes stepping the environments (1: this process).
  """
  if num_episodes < 1:
    raise ValueError(f'num_episodes must be positive, got {num_episodes}.')
  if num_workers < 1:
    raise ValueError(f'num_workers must be positive, got {num_workers}.')
  seeds = [seed + index for index in range(num_episodes)]
  envs = (_LocalEnvironments(env_factory, seeds) if num_workers == 1 else
          _EnvironmentWorkers(env_factory, seeds, num_workers))
  try:
    time_steps = envs.reset()
    done = np.zeros(num_episodes, bool)
    success = np.zeros(num_episodes, bool)
    returns = np.zeros(num_episodes)
    lengths = np.zeros(num_episodes)
    policy_state = policy.get_initial_state(num_episodes)
    while not done.all():
      batch = nest_utils.stack_nested_arrays(time_steps)
      action_step = policy.action(batch, policy_state)
      actions, policy_state = np.asarray(action_step.action), action_step.state
      active = np.flatnonzero(~done)
      for index, (time_step, succeeded) in zip(
          active, envs.step(active, actions[active])):
        time_steps[index] = time_step
        returns[index] += time_step.reward
        lengths[index] += 1
        if time_step.is_last():
          done[index] = True
          success[index] = succeeded
  finally:
    envs.close()
  result = EvalResult(success_rate=float(success.mean()),
                      avg_return=float(returns.mean()),
                      avg_episode_length=float(lengths.mean()),
                      eval_episodes=num_episodes)
  if normalize_return is not None:
    scores = np.array([normalize_return(float(r)) for r in returns])
    result.normalized_score_mean = float(scores.mean())
    result.normalized_score_std = float(scores.std())
  return result


# A stepped environment's new time step, and at its last step whether the
# episode succeeded.
_Stepped = Tuple[Any, bool]


def _step_all(envs: Sequence[py_environment.PyEnvironment],
              indices: Sequence[int], actions: np.ndarray) -> List[_Stepped]:
  stepped = []
  for index, action in zip(indices, actions):
    time_step = envs[index].step(action)
    succeeded = (bool(envs[index].get_info()['success'])
                 if time_step.is_last() else False)
    stepped.append((time_step, succeeded))
  return stepped


class _LocalEnvironments:
  """The environments, built and stepped in this process."""

  def __init__(self, env_factory: Callable[[int], Any], seeds: Sequence[int]):
    self._envs = [env_factory(seed) for seed in seeds]

  def reset(self) -> List[Any]:
    return [env.reset() for env in self._envs]

  def step(self, indices: Sequence[int],
           actions: np.ndarray) -> List[_Stepped]:
    return _step_all(self._envs, indices, actions)

  def close(self) -> None:
    for env in self._envs:
      env.close()


def _worker(connection, env_factory: Callable[[int], Any], gin_config: str,
            seeds: Sequence[int]) -> None:
  """A worker process's loop: ('reset',), ('step', indices, actions), None."""
  gin.parse_config(gin_config)
  envs = [env_factory(seed) for seed in seeds]
  try:
    while True:
      command = connection.recv()
      if command is None:
        return
      if command[0] == 'reset':
        connection.send([env.reset() for env in envs])
      else:
        connection.send(_step_all(envs, *command[1:]))
  finally:
    for env in envs:
      env.close()


class _EnvironmentWorkers:
  """The environments, in `num_workers` processes with contiguous shares."""

  def __init__(self, env_factory: Callable[[int], Any], seeds: Sequence[int],
               num_workers: int):
    context = multiprocessing.get_context('spawn')
    bounds = np.linspace(0, len(seeds), min(num_workers, len(seeds)) + 1)
    self._starts = bounds.astype(int)
    self._connections = []
    self._processes = []
    gin_config = gin.config_str()
    for start, end in zip(self._starts[:-1], self._starts[1:]):
      ours, theirs = context.Pipe()
      process = context.Process(
          target=_worker, args=(theirs, env_factory, gin_config,
                                list(seeds[start:end])), daemon=True)
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

  def reset(self) -> List[Any]:
    for connection in self._connections:
      connection.send(('reset',))
    return [time_step for connection in self._connections
            for time_step in self._receive(connection)]

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

  def close(self) -> None:
    for connection in self._connections:
      try:
        connection.send(None)
      except (BrokenPipeError, OSError):
        pass
    for process in self._processes:
      process.join(timeout=30)
      if process.is_alive():
        process.kill()
