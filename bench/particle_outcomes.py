r"""How a particle policy's episodes end, and how it aims from rest.

    python -m bench.particle_outcomes --run_dir=DIR [--num_episodes=40]

Runs the run's exported policy on training's evaluation episodes (the same
seeds) and counts the outcomes: success, the first goal reached but not the
second, or the first goal never reached. It also prints the median distance
of each episode's first action from the first goal: at the start the
particle is at rest, so that action cannot lean on a velocity that already
points at the goal, as it can on the oracle-driven states of
`bench.action_error`.
"""
import collections
from typing import Dict, Sequence

from absl import flags
import gin
import numpy as np
from tf_agents.policies import py_tf_eager_policy
from tf_agents.utils import nest_utils

from bench import cli
from ibc_agents.train import train_eval

OUTCOMES = ('success', 'first goal only', 'first goal never')


def outcomes(run_dir: str, num_episodes: int) -> Dict[str, float]:
  """Outcome counts and the first action's median distance from the goal."""
  gin.clear_config()
  train_eval.parse_operative_config(run_dir)
  try:
    policy = py_tf_eager_policy.SavedModelPyTFEagerPolicy(
        f'{run_dir}/{train_eval.POLICY_DIR}', load_specs_from_pbtxt=True,
        batch_time_steps=False)
    history_length = gin.query_parameter('train_eval.history_length')
    seed = gin.query_parameter('train_eval.eval_seed')
    counts = collections.Counter()
    first_errors = []
    for episode in range(num_episodes):
      env = train_eval.make_env('PARTICLE', history_length, seed=seed + episode)
      particle = env.wrapped_env()
      time_step = env.reset()
      goal = time_step.observation['pos_first_goal'][-1]
      policy_state = policy.get_initial_state(1)
      while not time_step.is_last():
        action_step = policy.action(
            nest_utils.batch_nested_array(time_step), policy_state)
        action, policy_state = action_step.action[0], action_step.state
        if time_step.is_first():
          first_errors.append(float(np.linalg.norm(action - goal)))
        time_step = env.step(action)
      if particle.get_info()['success']:
        counts['success'] += 1
      elif particle.reached_goals[0]:
        counts['first goal only'] += 1
      else:
        counts['first goal never'] += 1
  finally:
    gin.clear_config()
  return dict({name: counts[name] for name in OUTCOMES},
              first_action_median=float(np.median(first_errors)))


def _define_flags(values: flags.FlagValues) -> None:
  flags.DEFINE_string('run_dir', None, 'A finished PARTICLE training run.',
                      flag_values=values, required=True)
  flags.DEFINE_integer('num_episodes', 40, 'Evaluation episodes.',
                       lower_bound=1, flag_values=values)


def main(argv: Sequence[str]) -> None:
  args = cli.parse(_define_flags, argv, 'bench.particle_outcomes')
  result = outcomes(args.run_dir, args.num_episodes)
  print(f'particle_outcomes: {args.run_dir}: ' + ', '.join(
      f'{name} {result[name]}' for name in OUTCOMES) +
        f' of {args.num_episodes}; first action '
        f'{result["first_action_median"]:.3f} from the first goal (median)',
        flush=True)


if __name__ == '__main__':
  cli.run(main)
