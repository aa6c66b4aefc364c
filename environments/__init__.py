"""Task registry: `make(task)` builds an environment, `make_oracle` its demonstrator.

Factories import their task lazily, so heavy simulators (pybullet, D4RL) load
only when their task is made. Every task's environment is a
`task_env.TaskEnv`, the contract that collection, training and evaluation
rely on (specs, seeding, `get_info()['success']`, rendering, `close`).
"""
import importlib
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

from tf_agents.environments import py_environment
from tf_agents.policies import py_policy

EnvFactory = Callable[..., py_environment.PyEnvironment]
OracleFactory = Callable[[py_environment.PyEnvironment], py_policy.PyPolicy]

_ENV_FACTORIES: Dict[str, EnvFactory] = {}
_ORACLE_FACTORIES: Dict[str, OracleFactory] = {}
_MODULES: Dict[str, Tuple[str, ...]] = {}


def register(name: str,
             factory: EnvFactory,
             oracle_factory: Optional[OracleFactory] = None,
             modules: Sequence[str] = ()) -> None:
  """Registers a task.

  Args:
    name: Task name passed to `make`, e.g. 'PARTICLE'.
    factory: Called with `make`'s keyword arguments; returns the environment,
      a `task_env.TaskEnv`.
    oracle_factory: Called with an environment of the task; returns a scripted
      policy that solves it. None when the task has no oracle.
    modules: The modules whose gin configurables the task's environment and
      oracle read; `import_modules` imports them before gin is parsed.

  Raises:
    ValueError: If `name` is already registered.
  """
  if name in _ENV_FACTORIES:
    raise ValueError(f'Task {name!r} is already registered.')
  _ENV_FACTORIES[name] = factory
  _MODULES[name] = tuple(modules)
  if oracle_factory is not None:
    _ORACLE_FACTORIES[name] = oracle_factory


def import_modules(task: str) -> None:
  """Imports the modules that register `task`'s gin configurables.

  A command that parses gin (which locks the configuration) and then builds
  the task calls this first: a configurable registered after the lock is an
  error, and a binding of one not yet registered is refused.

  Raises:
    ValueError: If `task` is not registered.
  """
  if task not in _ENV_FACTORIES:
    raise ValueError(
        f'Unknown task {task!r}; known tasks: {", ".join(known_tasks())}.')
  for module in _MODULES[task]:
    importlib.import_module(module)


def known_tasks() -> list[str]:
  """Returns the registered task names, sorted."""
  return sorted(_ENV_FACTORIES)


def tasks_with_oracle() -> list[str]:
  """Returns the registered tasks that have a scripted oracle, sorted."""
  return sorted(_ORACLE_FACTORIES)


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
                     f'{", ".join(tasks_with_oracle())}.')
  return _ORACLE_FACTORIES[task](env)


def _make_particle(**kwargs: Any) -> py_environment.PyEnvironment:
  from environments.particle import particle_env  # pylint: disable=g-import-not-at-top
  return particle_env.ParticleEnv(**kwargs)


def _make_particle_oracle(
    env: py_environment.PyEnvironment) -> py_policy.PyPolicy:
  from environments.particle import oracle  # pylint: disable=g-import-not-at-top
  return oracle.ParticleOracle(env)


register('PARTICLE', _make_particle, _make_particle_oracle,
         modules=('environments.particle.particle_env',
                  'environments.particle.oracle'))


_D4RL_TASKS = ('door-human-v0', 'pen-human-v0', 'hammer-human-v0',
               'relocate-human-v0', 'kitchen-complete-v0',
               'kitchen-partial-v0', 'kitchen-mixed-v0')
_NORMALIZED_SCORE_FNS: Dict[str, Callable[[float], float]] = {}


def normalized_score_fn(task: str) -> Optional[Callable[[float], float]]:
  """Returns the task's map from an episode return to a normalized score.

  D4RL tasks have one (0 = random policy, 100 = expert); others return None.
  """
  return _NORMALIZED_SCORE_FNS.get(task)


def _d4rl_factory(task: str) -> EnvFactory:
  def make_d4rl(**kwargs: Any) -> py_environment.PyEnvironment:
    from environments.d4rl import d4rl_env  # pylint: disable=g-import-not-at-top
    return d4rl_env.D4rlEnv(task, **kwargs)
  return make_d4rl


def _d4rl_normalized_score_fn(task: str) -> Callable[[float], float]:
  def normalized_score(episode_return: float) -> float:
    from environments.d4rl import scores  # pylint: disable=g-import-not-at-top
    return scores.normalized_score(task, episode_return)
  return normalized_score


for _task in _D4RL_TASKS:
  register(_task, _d4rl_factory(_task))
  _NORMALIZED_SCORE_FNS[_task] = _d4rl_normalized_score_fn(_task)


# task: (module of environments.block_pushing, environment class, oracle class)
_BLOCK_PUSHING_TASKS = {
    'PUSH': ('block_pushing_env', 'PushEnv', 'PushOracle'),
    'REACH': ('block_pushing_env', 'ReachEnv', 'ReachOracle'),
    'PUSH_DISCONTINUOUS': ('multi_target_envs', 'PushDiscontinuousEnv',
                           'PushDiscontinuousOracle'),
    'PUSH_MULTIMODAL': ('multi_target_envs', 'PushMultimodalEnv',
                        'PushMultimodalOracle'),
}


def _block_pushing_class(module: str, name: str) -> Any:
  return getattr(importlib.import_module(
      f'environments.block_pushing.{module}'), name)


def _block_pushing_factories(task: str) -> tuple[EnvFactory, OracleFactory]:
  module, env_class, oracle_class = _BLOCK_PUSHING_TASKS[task]

  def make_env(**kwargs: Any) -> py_environment.PyEnvironment:
    return _block_pushing_class(module, env_class)(**kwargs)

  def make_oracle(env: py_environment.PyEnvironment) -> py_policy.PyPolicy:
    return _block_pushing_class('oracles', oracle_class)(env)

  return make_env, make_oracle


for _task, (_module, _, _) in _BLOCK_PUSHING_TASKS.items():
  register(_task, *_block_pushing_factories(_task),
           modules=(f'environments.block_pushing.{_module}',))


# PUSH and PUSH_DISCONTINUOUS observed through a camera. task: (environment
# class in environments.block_pushing.pixel_envs, state oracle class, which
# oracles.EnvStateOracle runs on env.state()).
_BLOCK_PUSHING_PIXEL_TASKS = {
    'PUSH_PIXELS': ('PushPixelsEnv', 'PushOracle'),
    'PUSH_DISCONTINUOUS_PIXELS': ('PushDiscontinuousPixelsEnv',
                                  'PushDiscontinuousOracle'),
}


def _block_pushing_pixel_factories(
    task: str) -> tuple[EnvFactory, OracleFactory]:
  env_class, oracle_class = _BLOCK_PUSHING_PIXEL_TASKS[task]

  def make_env(**kwargs: Any) -> py_environment.PyEnvironment:
    return _block_pushing_class('pixel_envs', env_class)(**kwargs)

  def make_oracle(env: py_environment.PyEnvironment) -> py_policy.PyPolicy:
    state_oracle = _block_pushing_class('oracles', oracle_class)(env)
    return _block_pushing_class('oracles', 'EnvStateOracle')(env, state_oracle)

  return make_env, make_oracle


for _task in _BLOCK_PUSHING_PIXEL_TASKS:
  register(_task, *_block_pushing_pixel_factories(_task),
           modules=('environments.block_pushing.pixel_envs',))


def success_tolerance_binding(task: str, tolerance: float) -> str:
  """The gin binding that sets a block-pushing task's success tolerance (m).

  The original's train_eval evaluates every block-pushing task at its
  `goal_tolerance` (0.02 m for the paper's Table 3), whatever the
  environment's own default; this binding does the same for any process
  that parses it. Bind it for evaluation only: the oracles push to the
  environment's tolerance, so demonstrations collected under the binding
  would change too.

  Raises:
    ValueError: If `task` is not a block-pushing task or `tolerance` <= 0.
  """
  pixel_classes = {name: env_class for name, (env_class, _)
                   in _BLOCK_PUSHING_PIXEL_TASKS.items()}
  state_classes = {name: env_class for name, (_, env_class, _)
                   in _BLOCK_PUSHING_TASKS.items()}
  env_class = {**state_classes, **pixel_classes}.get(task)
  if env_class is None:
    raise ValueError(
        f'{task} has no success tolerance; block-pushing tasks: '
        f'{", ".join(sorted({**state_classes, **pixel_classes}))}.')
  if not tolerance > 0.0:
    raise ValueError(f'tolerance must be positive, got {tolerance}.')
  return f'{env_class}.success_tolerance = {float(tolerance)!r}'
