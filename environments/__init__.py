"""Task registry: `make(task)` builds an environment, `make_oracle` its demonstrator.

Factories import their task lazily, so heavy simulators (pybullet, D4RL) load
only when their task is made.
"""
from typing import Any, Callable, Dict, Optional

from tf_agents.environments import py_environment
from tf_agents.policies import py_policy

EnvFactory = Callable[..., py_environment.PyEnvironment]
OracleFactory = Callable[[py_environment.PyEnvironment], py_policy.PyPolicy]

_ENV_FACTORIES: Dict[str, EnvFactory] = {}
_ORACLE_FACTORIES: Dict[str, OracleFactory] = {}


def register(name: str,
             factory: EnvFactory,
             oracle_factory: Optional[OracleFactory] = None) -> None:
  """Registers a task.

  Args:
    name: Task name passed to `make`, e.g. 'PARTICLE'.
    factory: Called with `make`'s keyword arguments; returns the environment.
    oracle_factory: Called with an environment of the task; returns a scripted
      policy that solves it. None when the task has no oracle.

  Raises:
    ValueError: If `name` is already registered.
  """
  if name in _ENV_FACTORIES:
    raise ValueError(f'Task {name!r} is already registered.')
  _ENV_FACTORIES[name] = factory
  if oracle_factory is not None:
    _ORACLE_FACTORIES[name] = oracle_factory


def known_tasks() -> list[str]:
  """Returns the registered task names, sorted."""
  return sorted(_ENV_FACTORIES)


def make(task: str, **kwargs: Any) -> py_environment.PyEnvironment:
  """Builds the environment of `task`; `kwargs` go to its factory.

  Raises:
    ValueError: If `task` is not registered; the message lists known tasks.
  """
  if task not in _ENV_FACTORIES:
    raise ValueError(
        f'Unknown task {task!r}; known tasks: {", ".join(known_tasks())}.')
  return _ENV_FACTORIES[task](**kwargs)


def make_oracle(task: str,
                env: py_environment.PyEnvironment) -> py_policy.PyPolicy:
  """Builds the scripted oracle of `task` for `env` (unwrapped, unbatched).

  Raises:
    ValueError: If `task` has no registered oracle; the message lists the
      tasks that have one.
  """
  if task not in _ORACLE_FACTORIES:
    raise ValueError(f'No oracle for task {task!r}; tasks with an oracle: '
                     f'{", ".join(sorted(_ORACLE_FACTORIES))}.')
  return _ORACLE_FACTORIES[task](env)


def _make_particle(**kwargs: Any) -> py_environment.PyEnvironment:
  from environments.particle import particle_env  # pylint: disable=g-import-not-at-top
  return particle_env.ParticleEnv(**kwargs)


def _make_particle_oracle(
    env: py_environment.PyEnvironment) -> py_policy.PyPolicy:
  from environments.particle import oracle  # pylint: disable=g-import-not-at-top
  return oracle.ParticleOracle(env)


register('PARTICLE', _make_particle, _make_particle_oracle)
