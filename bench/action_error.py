r"""How far a trained policy's actions are from its task's oracle's.

    python -m bench.action_error --run_dir=DIR [--task=PARTICLE]
        [--num_episodes=5] [--steps_per_episode=20] [--policy=final|best]

Loads the run's operative gin config and exported SavedModel, drives the
task's environment with the oracle (so every state is one the demonstrations
cover), and at each step asks both for an action. It prints the median and
90th percentile of the Euclidean distance between them: a policy can fail
because it is a little imprecise everywhere (a high median) or because it
picks the wrong mode now and then (a low median, a high 90th percentile).
"""
import os
from typing import Dict, Iterator, Sequence, Tuple

from absl import flags
import gin
import numpy as np
from tf_agents.environments import py_environment
from tf_agents.policies import py_tf_eager_policy
from tf_agents.trajectories import time_step as ts

from bench import cli
import environments
from ibc_agents.train import train_eval

EVAL_SEED = 2_000_000  # episodes apart from training's evaluation seeds
POLICIES = {'final': train_eval.POLICY_DIR, 'best': train_eval.BEST_POLICY_DIR}


def _unwrapped(env: py_environment.PyEnvironment
               ) -> py_environment.PyEnvironment:
  while hasattr(env, 'wrapped_env'):
    env = env.wrapped_env()
  return env


def policy_dir(run_dir: str, policy: str) -> str:
  """The exported policy `policy` ('final' or 'best') of the run in `run_dir`.

  Raises:
    app.UsageError: for another name, or a 'best' the run never exported
      (runs without validation episodes).
  """
  cli.known_names('--policy', [policy], POLICIES)
  path = os.path.join(run_dir, POLICIES[policy])
  cli.require(policy == 'final' or os.path.isdir(path),
              f'{run_dir} has no best_policy/: it ran without validation '
              'episodes (train_eval.validation_episodes)')
  return path


def oracle_driven_actions(run_dir: str, task: str, num_episodes: int,
                          steps_per_episode: int, policy: str = 'final'
                          ) -> Iterator[Tuple[ts.TimeStep, np.ndarray,
                                              np.ndarray]]:
  """(time step, oracle's action, policy's action) along oracle episodes.

  The environment follows the oracle, so every state is one the
  demonstrations cover; `policy` is as `policy_dir`.
  """
  gin.clear_config()
  train_eval.parse_operative_config(run_dir)
  try:
    saved_policy = py_tf_eager_policy.SavedModelPyTFEagerPolicy(
        policy_dir(run_dir, policy), load_specs_from_pbtxt=True)
    history_length = gin.query_parameter('train_eval.history_length')
    for episode in range(num_episodes):
      env = train_eval.make_env(task, history_length, seed=EVAL_SEED + episode)
      inner = _unwrapped(env)
      oracle = environments.make_oracle(task, inner)
      time_step = env.reset()
      policy_state = saved_policy.get_initial_state(1)  # batched by 1
      for _ in range(steps_per_episode):
        wanted = np.asarray(oracle.action(inner.current_time_step()).action)
        action_step = saved_policy.action(time_step, policy_state)
        policy_state = action_step.state
        yield time_step, wanted, np.asarray(action_step.action)
        time_step = env.step(wanted)
        if time_step.is_last():
          break
  finally:
    gin.clear_config()


def action_errors(run_dir: str, task: str, num_episodes: int,
                  steps_per_episode: int, policy: str = 'final'
                  ) -> np.ndarray:
  """Distances [num_episodes * steps] between policy and oracle actions."""
  return np.array([
      float(np.linalg.norm(chosen - wanted))
      for _, wanted, chosen in oracle_driven_actions(
          run_dir, task, num_episodes, steps_per_episode, policy)])


def summarize(errors: np.ndarray) -> Dict[str, float]:
  """Median and 90th percentile of the distances, and their count."""
  return dict(median=float(np.median(errors)),
              p90=float(np.percentile(errors, 90)), count=len(errors))


def _define_flags(values: flags.FlagValues) -> None:
  flags.DEFINE_string('run_dir', None, 'A finished training run.',
                      flag_values=values, required=True)
  flags.DEFINE_string('task', 'PARTICLE', 'Its task.', flag_values=values)
  flags.DEFINE_integer('num_episodes', 5, 'Oracle episodes.', lower_bound=1,
                       flag_values=values)
  flags.DEFINE_integer('steps_per_episode', 20, 'Steps compared in each.',
                       lower_bound=1, flag_values=values)
  define_policy_flag(values)


def define_policy_flag(values: flags.FlagValues) -> None:
  """--policy: the run's last exported policy or its best-validated one."""
  flags.DEFINE_enum('policy', 'final', list(POLICIES),
                    "The run's policy: the last exported (policy/) or the "
                    'best on validation episodes (best_policy/).',
                    flag_values=values)


def main(argv: Sequence[str]) -> None:
  args = cli.parse(_define_flags, argv, 'bench.action_error')
  stats = summarize(action_errors(args.run_dir, args.task, args.num_episodes,
                                  args.steps_per_episode, args.policy))
  print(f'action_error: {args.run_dir} ({args.policy} policy): '
        f'median {stats["median"]:.4f}, '
        f'p90 {stats["p90"]:.4f} over {stats["count"]} steps', flush=True)


if __name__ == '__main__':
  cli.run(main)
