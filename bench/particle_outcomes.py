r"""How a particle policy's episodes end, and how it aims from rest.

    python -m bench.particle_outcomes --run_dir=DIR [--num_episodes=40]
        [--policy=final|best] [--oracle_episodes=10] [--steps_per_episode=20]

Runs the run's exported policy on training's evaluation episodes (the same
seeds) and counts the outcomes: success, both goals reached and the second
left by the end, the first goal reached but not the second, or the first
goal never reached. It also prints the median distance
of each episode's first action from the first goal: at the start the
particle is at rest, so that action cannot lean on a velocity that already
points at the goal, as it can on the oracle-driven states of
`bench.action_error`. On those oracle-driven states it counts, last, the
share of actions aimed at the goal the oracle is not heading for: a wrong
choice between the two modes rather than imprecision.
"""
import collections
from typing import Dict, Sequence

from absl import flags
import gin
import numpy as np
from tf_agents.policies import py_tf_eager_policy
from tf_agents.utils import nest_utils

from bench import action_error
from bench import cli
from ibc_agents.train import train_eval

OUTCOMES = ('success', 'left the second goal', 'first goal only',
            'first goal never')


def outcome(reached_goals: np.ndarray, success: bool) -> str:
  """How an episode ended (one of `OUTCOMES`), from whether each goal [2]
  was reached at some step and whether the task is complete at the end."""
  if success:
    return 'success'
  if reached_goals.all():
    return 'left the second goal'
  return 'first goal only' if reached_goals[0] else 'first goal never'


def outcomes(run_dir: str, num_episodes: int,
             policy: str = 'final') -> Dict[str, float]:
  """Outcome counts and the first action's median distance from the goal.

  `policy` is 'final' or 'best', as `action_error.policy_dir`.
  """
  gin.clear_config()
  train_eval.parse_operative_config(run_dir)
  try:
    saved_policy = py_tf_eager_policy.SavedModelPyTFEagerPolicy(
        action_error.policy_dir(run_dir, policy), load_specs_from_pbtxt=True,
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
      policy_state = saved_policy.get_initial_state(1)
      while not time_step.is_last():
        action_step = saved_policy.action(
            nest_utils.batch_nested_array(time_step), policy_state)
        action, policy_state = action_step.action[0], action_step.state
        if time_step.is_first():
          first_errors.append(float(np.linalg.norm(action - goal)))
        time_step = env.step(action)
      counts[outcome(particle.reached_goals,
                     particle.get_info()['success'])] += 1
  finally:
    gin.clear_config()
  return dict({name: counts[name] for name in OUTCOMES},
              first_action_median=float(np.median(first_errors)))


def aims_at_other_goal(chosen: np.ndarray, wanted: np.ndarray,
                       first_goal: np.ndarray,
                       second_goal: np.ndarray) -> bool:
  """Whether `chosen` [A] is nearer the goal the oracle is not heading for.

  The oracle's action `wanted` [A] is the goal it heads for; the goals are
  [A] positions.
  """
  heading_first = (np.linalg.norm(wanted - first_goal)
                   <= np.linalg.norm(wanted - second_goal))
  target, other = ((first_goal, second_goal) if heading_first
                   else (second_goal, first_goal))
  return bool(np.linalg.norm(chosen - other) < np.linalg.norm(chosen - target))


def other_goal_share(run_dir: str, num_episodes: int, steps_per_episode: int,
                     policy: str = 'final') -> float:
  """Share of the policy's actions aimed at the wrong goal, on oracle states.

  Along oracle-driven episodes (`action_error.oracle_driven_actions`), the
  share of steps whose action is nearer the goal the oracle is not heading
  for: the mode choice between the two goals, apart from precision.
  """
  aimed_wrong = [
      aims_at_other_goal(chosen.reshape(-1), wanted.reshape(-1),
                         time_step.observation['pos_first_goal'][-1],
                         time_step.observation['pos_second_goal'][-1])
      for time_step, wanted, chosen in action_error.oracle_driven_actions(
          run_dir, 'PARTICLE', num_episodes, steps_per_episode, policy)]
  return float(np.mean(aimed_wrong))


def _define_flags(values: flags.FlagValues) -> None:
  flags.DEFINE_string('run_dir', None, 'A finished PARTICLE training run.',
                      flag_values=values, required=True)
  flags.DEFINE_integer('num_episodes', 40, 'Evaluation episodes.',
                       lower_bound=1, flag_values=values)
  flags.DEFINE_integer('oracle_episodes', 10,
                       'Oracle-driven episodes for the wrong-goal share.',
                       lower_bound=1, flag_values=values)
  flags.DEFINE_integer('steps_per_episode', 20,
                       'Steps of each oracle-driven episode.', lower_bound=1,
                       flag_values=values)
  action_error.define_policy_flag(values)


def main(argv: Sequence[str]) -> None:
  args = cli.parse(_define_flags, argv, 'bench.particle_outcomes')
  result = outcomes(args.run_dir, args.num_episodes, args.policy)
  wrong = other_goal_share(args.run_dir, args.oracle_episodes,
                           args.steps_per_episode, args.policy)
  print(f'particle_outcomes: {args.run_dir} ({args.policy} policy): ' +
        ', '.join(f'{name} {result[name]}' for name in OUTCOMES) +
        f' of {args.num_episodes}; first action '
        f'{result["first_action_median"]:.3f} from the first goal (median); '
        f'{wrong:.2f} of the actions on oracle-driven states aimed at the '
        'other goal', flush=True)


if __name__ == '__main__':
  cli.run(main)
