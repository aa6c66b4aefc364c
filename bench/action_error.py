r"""How far a trained policy's actions are from its task's oracle's.

    python -m bench.action_error --run_dir=DIR [--task=PARTICLE]
        [--num_episodes=5] [--steps_per_episode=20]

Loads the run's operative gin config and exported SavedModel, drives the
task's environment with the oracle (so every state is one the demonstrations
cover), and at each step asks both for an action. It prints the median and
90th percentile of the Euclidean distance between them: a policy can fail
because it is a little imprecise everywhere (a high median) or because it
picks the wrong mode now and then (a low median, a high 90th percentile).
"""
from typing import Dict, Sequence

from absl import flags
import gin
import numpy as np
from tf_agents.environments import py_environment
from tf_agents.policies import py_tf_eager_policy

from bench import cli
import environments
from ibc_agents.train import train_eval

EVAL_SEED = 2_000_000  # episodes apart from training's evaluation seeds


def _unwrapped(env: py_environment.PyEnvironment
               ) -> py_environment.PyEnvironment:
  while hasattr(env, 'wrapped_env'):
    env = env.wrapped_env()
  return env


def action_errors(run_dir: str, task: str, num_episodes: int,
                  steps_per_episode: int) -> np.ndarray:
  """Distances [num_episodes * steps] between policy and oracle actions."""
  gin.clear_config()
  train_eval.parse_operative_config(run_dir)
  policy = py_tf_eager_policy.SavedModelPyTFEagerPolicy(
      f'{run_dir}/{train_eval.POLICY_DIR}', load_specs_from_pbtxt=True)
  history_length = gin.query_parameter('train_eval.history_length')
  errors = []
  for episode in range(num_episodes):
    env = train_eval.make_env(task, history_length, seed=EVAL_SEED + episode)
    inner = _unwrapped(env)
    oracle = environments.make_oracle(task, inner)
    time_step = env.reset()
    policy_state = policy.get_initial_state(1)  # time steps are batched by 1
    for _ in range(steps_per_episode):
      wanted = np.asarray(oracle.action(inner.current_time_step()).action)
      action_step = policy.action(time_step, policy_state)
      chosen, policy_state = np.asarray(action_step.action), action_step.state
      errors.append(float(np.linalg.norm(chosen - wanted)))
      time_step = env.step(wanted)
      if time_step.is_last():
        break
  gin.clear_config()
  return np.array(errors)


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


def main(argv: Sequence[str]) -> None:
  args = cli.parse(_define_flags, argv, 'bench.action_error')
  stats = summarize(action_errors(args.run_dir, args.task, args.num_episodes,
                                  args.steps_per_episode))
  print(f'action_error: {args.run_dir}: median {stats["median"]:.4f}, '
        f'p90 {stats["p90"]:.4f} over {stats["count"]} steps', flush=True)


if __name__ == '__main__':
  cli.run(main)
