"""Every binding of every shipped gin config takes effect in a real run.

A binding that gin accepts but no call uses (a parameter passed explicitly
by the caller, a configurable never called, `@gin.configurable` below
`@tf.function`) is silently ignored. Each config is parsed, shrunk (same
bindings, tiny values), trained for two steps on two random-policy episodes
of its task and evaluated on one episode (episodes cut to a few steps
where the task allows); every (scope, configurable, parameter) bound by the
file must then be in the operative config.
"""
import inspect
import pathlib

import gin
from gin import config_parser
import pytest
from tf_agents.policies import random_py_policy

import environments
from data_tools import collect
from data_tools import demos
from ibc_agents.train import train_eval

CONFIG_DIR = pathlib.Path(__file__).resolve().parents[2] / 'gin_configs'
CONFIGS = sorted(path.relative_to(CONFIG_DIR.parent).as_posix()
                 for path in CONFIG_DIR.glob('*/*.gin')
                 if path.name != 'base.gin')  # base files come with includes
# Values that keep a run tiny, by parameter name; only bindings the config
# already has are changed, so the set of bindings stays the file's own.
# Counter-example counts are kept: fractions of them (refined, near the
# expert) must not round to zero and leave their sampler unused.
TINY_VALUES = {
    'batch_size': 8, 'num_iterations': 2, 'eval_interval': 2,
    'eval_episodes': 1, 'validation_episodes': 1, 'checkpoint_interval': 2,
    'log_interval': 1,
    'width': 8, 'depth': 1, 'num_action_samples': 8,
    'image_width': 32, 'image_height': 24, 'filters': (8,),
}
NUM_EPISODES = 2
EPISODE_STEPS = 10  # episode length where the task's environment takes one


def shorten_episodes(task: str) -> None:
  """Binds the task environment's `max_steps` to EPISODE_STEPS, if it has one."""
  env = environments.make(task)
  env_class = type(env)
  env.close()
  takes_max_steps = any(
      'max_steps' in inspect.signature(cls.__init__).parameters
      for cls in env_class.__mro__ if '__init__' in vars(cls))
  if takes_max_steps:
    gin.bind_parameter(f'{env_class.__name__}.max_steps', EPISODE_STEPS)


class _KeepNames(config_parser.ParserDelegate):
  """Parses references and macros as their names: only keys matter here."""

  def configurable_reference(self, scoped_configurable_name, evaluate):
    return scoped_configurable_name

  def macro(self, macro_name):
    return macro_name


def bound_keys(config_text: str) -> set[tuple[str, str, str]]:
  """(scope, configurable, parameter) of every binding in gin config text."""
  return {(statement.scope, statement.selector, statement.arg_name)
          for statement in config_parser.ConfigParser(config_text, _KeepNames())
          if isinstance(statement, config_parser.BindingStatement)}


def write_random_demos(task: str, output_dir: pathlib.Path) -> None:
  """Two random-policy episodes of `task`, as a one-shard dataset."""
  env = environments.make(task, seed=0)
  policy = random_py_policy.RandomPyPolicy(env.time_step_spec(),
                                           env.action_spec())
  episodes = collect.run_episodes(env, policy)
  demos.write_episodes(
      str(output_dir / 'random_0.tfrecord'),
      demos.trajectory_spec_from_env(env),
      (next(episodes)[0] for _ in range(NUM_EPISODES)))
  env.close()


def test_configs_are_discovered():
  assert 'gin_configs/particle/ibc_langevin.gin' in CONFIGS


def test_bound_keys_are_scoped_selector_parameter_triples():
  assert bound_keys('import ibc_agents.samplers\n'
                    'a/dfo_maximize.num_iterations = 2\n'
                    'IbcPolicy.sampler = @dfo_maximize\n') == {
                        ('a', 'dfo_maximize', 'num_iterations'),
                        ('', 'IbcPolicy', 'sampler')}


@pytest.mark.parametrize('config', CONFIGS)
def test_every_binding_takes_effect(config, tmp_path, monkeypatch):
  monkeypatch.chdir(tmp_path)  # includes resolve through the package
  gin.clear_config()
  try:
    try:
      gin.parse_config_file(config)
    except ImportError as error:
      pytest.skip(f'{config} needs a simulator that is not installed: {error}')
    bound = bound_keys(gin.config_str())
    task = gin.query_parameter('train_eval.task')
    with gin.unlock_config():
      for scope, selector, parameter in bound:
        if parameter in TINY_VALUES:
          key = f'{scope}/{selector}' if scope else selector
          gin.bind_parameter(f'{key}.{parameter}', TINY_VALUES[parameter])
    data_dir = tmp_path / 'data'
    data_dir.mkdir()
    try:
      with gin.unlock_config():
        shorten_episodes(task)
      write_random_demos(task, data_dir)
    except ImportError as error:
      pytest.skip(f'{task} needs a simulator that is not installed: {error}')
    train_eval.train_eval(root_dir=str(tmp_path / 'run'),
                          dataset=str(data_dir))
    unused = bound - bound_keys(gin.operative_config_str())
    assert not unused, (
        f'{config}: bindings that never took effect (scope, configurable, '
        f'parameter): {sorted(unused)}')
  finally:
    gin.clear_config()
