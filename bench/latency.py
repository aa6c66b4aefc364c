r"""Greedy-action latency of trained runs under acting options, with success.

    python -m bench.latency --run=particle_dfo=runs/quickstart \
        --variant='xla=IbcPolicy.jit_compile = True' \
        --variant='warm=IbcPolicy.warm_start_samples = 64;IbcPolicy.num_action_samples = 128' \
        [--episodes=100] [--calls=200] [--rounds=5] [--work_dir=/tmp/latency] \
        [--output=docs/benchmarks.md]

Each run (a `python -m ibc_agents.train` directory) is restored from its
last checkpoint and exported once per variant: "today" (the run's own
operative config) and each --variant, whose gin bindings (separated by ";")
change how the policy acts, not what it learnt. Every export is timed
through its SavedModel on one observation at a time (batch 1), the
environment stepped with the chosen actions, and evaluated on --episodes
episodes (training's evaluation seeds). The variants of a run are timed in
interleaved rounds, so that a busy machine slows them alike and their
ratios to "today" hold. The `## Acting latency: <runs>` section of --output
is written (or replaced) and the table printed.
"""
import dataclasses
import functools
import os
import shlex
import time
from typing import Dict, List, Sequence, Tuple

from absl import flags
import gin
import numpy as np
from tf_agents.environments import py_environment
from tf_agents.policies import policy_saver
from tf_agents.policies import py_policy
from tf_agents.policies import py_tf_eager_policy
from tf_agents.utils import nest_utils

import environments
from bench import cli
from bench import report
from ibc_agents.train import evaluation
from ibc_agents.train import train_eval

BASELINE = 'today'  # the variant without extra bindings
_WARMUP_CALLS = 10  # untimed calls per policy (tracing, XLA compilation)


@dataclasses.dataclass
class VariantResult:
  """One variant of one run: its latencies and its success."""
  run: str
  variant: str
  bindings: Tuple[str, ...]
  seconds: List[float]
  success_rate: float

  def percentile_ms(self, percent: float) -> float:
    return 1e3 * float(np.percentile(self.seconds, percent))


def action_seconds(policy: py_policy.PyPolicy,
                   env: py_environment.PyEnvironment, num_calls: int,
                   warmup_calls: int = _WARMUP_CALLS) -> List[float]:
  """Seconds of each of `num_calls` greedy actions on one observation.

  The environment is stepped with the policy's actions (reset at episode
  ends) and the policy's state is carried, as on a robot. The policy
  takes batched time steps (`batch_time_steps=False`).
  """
  time_step = env.reset()
  policy_state = policy.get_initial_state(1)
  seconds = []
  for call in range(warmup_calls + num_calls):
    batch = nest_utils.batch_nested_array(time_step)
    start = time.perf_counter()
    action_step = policy.action(batch, policy_state)
    action = np.asarray(action_step.action)
    if call >= warmup_calls:
      seconds.append(time.perf_counter() - start)
    policy_state = action_step.state
    time_step = env.reset() if time_step.is_last() else env.step(action[0])
  return seconds


def parse_variant(text: str) -> Tuple[str, Tuple[str, ...]]:
  """'NAME=BINDING;BINDING' -> (NAME, bindings)."""
  name, _, text_bindings = text.partition('=')
  name = name.strip()
  bindings = tuple(binding.strip() for binding in text_bindings.split(';')
                   if binding.strip())
  cli.require(bool(name and name != BASELINE and bindings),
              f'--variant={text!r}: expected NAME=BINDING[;BINDING...] with '
              f'a NAME other than {BASELINE!r}')
  return name, bindings


def export_variant(root_dir: str, bindings: Sequence[str],
                   policy_dir: str) -> None:
  """Exports the run's policy, acting under `bindings`, to `policy_dir`."""
  gin.clear_config()
  train_eval.parse_operative_config(root_dir)
  gin.parse_config(bindings)
  agent = train_eval.restore_agent(root_dir)
  policy_saver.PolicySaver(
      agent.policy, batch_size=None,
      train_step=agent.train_step_counter).save(policy_dir)


def measure_run(name: str, root_dir: str,
                variants: Dict[str, Tuple[str, ...]], work_dir: str,
                num_calls: int, num_rounds: int,
                num_episodes: int) -> List[VariantResult]:
  """Exports, times and evaluates every variant of the run in `root_dir`."""
  policies = {}
  for variant, bindings in variants.items():
    policy_dir = os.path.join(work_dir, name, variant)
    export_variant(root_dir, bindings, policy_dir)
    policies[variant] = py_tf_eager_policy.SavedModelPyTFEagerPolicy(
        policy_dir, load_specs_from_pbtxt=True, batch_time_steps=False)
  gin.clear_config()
  train_eval.parse_operative_config(root_dir)
  task = gin.query_parameter('train_eval.task')
  history_length = gin.query_parameter('train_eval.history_length')
  seed = gin.query_parameter('train_eval.eval_seed')
  make_env = functools.partial(train_eval.make_env, task, history_length)
  seconds = {variant: [] for variant in variants}
  env = make_env(seed=0)
  try:
    for round_index in range(num_rounds):
      for variant, policy in policies.items():
        seconds[variant] += action_seconds(
            policy, env, -(-num_calls // num_rounds),
            warmup_calls=_WARMUP_CALLS if round_index == 0 else 0)
  finally:
    env.close()
  results = []
  for variant, policy in policies.items():
    outcome = evaluation.evaluate(
        policy, make_env, num_episodes, seed=seed,
        normalize_return=environments.normalized_score_fn(task))
    results.append(VariantResult(name, variant, variants[variant],
                                 seconds[variant], outcome.success_rate))
    print(f'latency: {name} {variant}: p50 '
          f'{results[-1].percentile_ms(50):.1f} ms, p99 '
          f'{results[-1].percentile_ms(99):.1f} ms, success '
          f'{outcome.success_rate:.2f}', flush=True)
  gin.clear_config()
  return results


def format_table(results: Sequence[VariantResult]) -> str:
  """Markdown rows: latencies, ratio and success against the run's "today"."""
  lines = ['| run | variant | bindings | p50 ms | p99 ms | p50 / today | '
           'success | vs today |',
           '| --- | --- | --- | --- | --- | --- | --- | --- |']
  baselines = {result.run: result for result in results
               if result.variant == BASELINE}
  for result in results:
    base = baselines[result.run]
    bindings = '<br>'.join(f'`{binding}`' for binding in result.bindings)
    lines.append(
        f'| {result.run} | {result.variant} | {bindings or "-"} | '
        f'{result.percentile_ms(50):.1f} | {result.percentile_ms(99):.1f} | '
        f'{result.percentile_ms(50) / base.percentile_ms(50):.2f} | '
        f'{result.success_rate:.2f} | '
        f'{result.success_rate - base.success_rate:+.2f} |')
  return '\n'.join(lines)


def _define_flags(values: flags.FlagValues) -> None:
  flags.DEFINE_multi_string(
      'run', [], 'NAME=ROOT_DIR of a trained run (repeatable).',
      flag_values=values)
  flags.mark_flag_as_required('run', flag_values=values)
  flags.DEFINE_multi_string(
      'variant', [], 'NAME=BINDING[;BINDING...]: acting options to time '
      'against the run\'s own ("today"); repeatable.', flag_values=values)
  flags.DEFINE_integer('calls', 200, 'Timed actions per variant.',
                       lower_bound=1, flag_values=values)
  flags.DEFINE_integer('rounds', 5, 'Interleaved timing rounds.',
                       lower_bound=1, flag_values=values)
  flags.DEFINE_integer('episodes', 100, 'Evaluation episodes per variant.',
                       lower_bound=1, flag_values=values)
  flags.DEFINE_string('work_dir', '/tmp/latency',
                      'Where the exported policies go.', flag_values=values)
  flags.DEFINE_string('output', 'docs/benchmarks.md',
                      'Markdown file whose "Acting latency: <runs>" '
                      'section is written ("" for none).', flag_values=values)


def parse_args(argv: Sequence[str]) -> cli.Args:
  """Parses and checks the command line."""
  args = cli.parse(_define_flags, argv, 'bench.latency')
  runs = {}
  for text in args.run:
    name, separator, root_dir = text.partition('=')
    cli.require(separator and name and root_dir,
                f'--run={text!r}: expected NAME=ROOT_DIR')
    cli.require(os.path.exists(os.path.join(
        root_dir, train_eval.OPERATIVE_CONFIG_FILE)),
                f'--run={text!r}: {root_dir} is not a training run (no '
                f'{train_eval.OPERATIVE_CONFIG_FILE})')
    runs[name] = root_dir
  args.runs = runs
  args.variants = dict([(BASELINE, ())] +
                       [parse_variant(text) for text in args.variant])
  return args


def main(argv: Sequence[str]) -> None:
  args = parse_args(argv)
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
  results = []
  for name, root_dir in args.runs.items():
    results += measure_run(name, root_dir, args.variants,
                           os.path.abspath(args.work_dir), args.calls,
                           args.rounds, args.episodes)
  table = format_table(results)
  print(table)
  if args.output:
    heading = f'## Acting latency: {", ".join(args.runs)}'
    section = '\n\n'.join([
        heading,
        f'`{shlex.join(["python", "-m", "bench.latency", *argv])}`',
        f'Machine: {report.machine_description()}. Date: '
        f'{time.strftime("%Y-%m-%d")}. Load average (1 min) at the end: '
        f'{os.getloadavg()[0]:.1f}.',
        table,
        f'One observation per call through the exported SavedModel, '
        f'{args.calls} calls per variant after {_WARMUP_CALLS} warm-up calls, '
        f'in {args.rounds} interleaved rounds; success over {args.episodes} '
        'episodes from training\'s evaluation seeds.',
    ]) + '\n'
    report.write_section(args.output, heading, section)
    print(f'latency: wrote {args.output} ({heading})', flush=True)


if __name__ == '__main__':
  cli.run(main)
