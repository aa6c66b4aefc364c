"""Policy evaluation on many environments stepped in lockstep."""
import dataclasses
from typing import Any, Callable, Dict, Mapping, Optional

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
             normalize_return: Optional[Callable[[float], float]] = None
             ) -> EvalResult:
  """Runs one episode in each of `num_episodes` seeded environments.

  All environments step together so the policy acts on one batch [E, ...]
  per step: a sampling-based policy costs one search per step, not one per
  episode. Success is each environment's `get_info()['success']` at the end
  of its episode.

  Args:
    policy: a batched policy (e.g. `PyTFEagerPolicy`, a loaded SavedModel).
    env_factory: builds the environment for a seed.
    num_episodes: number of episodes (and environments).
    seed: the first environment's seed; the others follow it.
    normalize_return: maps an episode return to the task's normalized score;
      when given, the result has its mean and (population) std over episodes.
  """
  if num_episodes < 1:
    raise ValueError(f'num_episodes must be positive, got {num_episodes}.')
  envs = [env_factory(seed + index) for index in range(num_episodes)]
  time_steps = [env.reset() for env in envs]
  done = np.zeros(num_episodes, bool)
  success = np.zeros(num_episodes, bool)
  returns = np.zeros(num_episodes)
  lengths = np.zeros(num_episodes)
  while not done.all():
    batch = nest_utils.stack_nested_arrays(time_steps)
    actions = policy.action(batch).action
    for index in np.flatnonzero(~done):
      time_steps[index] = envs[index].step(actions[index])
      returns[index] += time_steps[index].reward
      lengths[index] += 1
      if time_steps[index].is_last():
        done[index] = True
        success[index] = bool(envs[index].get_info()['success'])
  for env in envs:
    env.close()
  result = EvalResult(success_rate=float(success.mean()),
                      avg_return=float(returns.mean()),
                      avg_episode_length=float(lengths.mean()),
                      eval_episodes=num_episodes)
  if normalize_return is not None:
    scores = np.array([normalize_return(float(r)) for r in returns])
    result.normalized_score_mean = float(scores.mean())
    result.normalized_score_std = float(scores.std())
  return result
