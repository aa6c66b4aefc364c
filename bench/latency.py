r"""Greedy-action latency of trained runs under acting options, with success.

    python -m bench.latency --run=particle_dfo=runs/quickstart \
        --variant='xla=IbcPolicy.jit_compile = True' \
        --variant='warm=IbcPolicy.warm_start_samples = 64;IbcPolicy.num_action_samples = 128' \
        [--episodes=100] [--calls=200] [--rounds=5] [--work_dir=/tmp/latency] \
        [--output=docs/benchmarks.md] [--summary=docs/results/latency_NAMES.json]

Each run (a `python -m ibc_agents.train` directory) is restored from its
last checkpoint and exported once per variant: "today" (the run's own
operative config) and each --variant, whose gin bindings (separated by ";")
change how the policy acts, not what it learnt. Every export is timed
through its SavedModel on one observation at a time (batch 1), the
environment stepped with the chosen actions, and evaluated on --episodes
episodes (training's evaluation seeds). The variants of a run are timed in
interleaved rounds, so that a busy machine slows them alike and their
ratios to "today" hold. The table is printed; with --output, the run's
record goes to --summary and the `## Acting latency: <runs>` section of
--output is written (or replaced) from it, as `bench.results_tables`
renders it.
"""
import dataclasses
import functools
import os
import shlex
import time
from typing import Any, Dict, List, Sequence, Tuple

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
from bench import results_tables
from bench import speed_tables
from ibc_agents.train import evaluation
from ibc_agents.train import train_eval

BASELINE = speed_tables.LATENCY_BASELINE  # the variant without bindings
RECORD_PREFIX = 'latency'  # docs/results/latency_<run names>.json
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
  return cli.named_bindings('--variant', text, BASELINE)


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


def record(command: str, runs: Dict[str, str], num_calls: int,
           num_rounds: int, num_episodes: int,
           results: Sequence[VariantResult]) -> Dict[str, Any]:
  """The run's record: provenance, settings and each variant's figures."""
  return dict(
      report.provenance(command), section=heading(runs), runs=dict(runs),
      calls=num_calls, rounds=num_rounds, warmup_calls=_WARMUP_CALLS,
      episodes=num_episodes,
      results=[dict(run=result.run, variant=result.variant,
                    bindings=list(result.bindings),
                    p50_ms=result.percentile_ms(50),
                    p99_ms=result.percentile_ms(99),
                    success_rate=result.success_rate)
               for result in results])


def heading(runs: Dict[str, str]) -> str:
  return f'## Acting latency: {", ".join(runs)}'


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
  flags.DEFINE_string('summary', '',
                      'JSON record of the run, written with --output '
                      f'(default: docs/results/{RECORD_PREFIX}_<run names>'
                      '.json).', flag_values=values)


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
  command = shlex.join(['python', '-m', 'bench.latency', *argv])
  run_record = record(command, args.runs, args.calls, args.rounds,
                      args.episodes, results)
  summary = args.summary or os.path.join(
      'docs', 'results', f'{RECORD_PREFIX}_{"_".join(args.runs)}.json')
  name = os.path.splitext(os.path.basename(summary))[0]
  if not args.output:
    print(results_tables.marked_table(name, run_record))
    return
  section_heading = heading(args.runs)
  print(report.write_record_section(args.output, section_heading, summary,
                                    run_record))
  print(f'latency: wrote {args.output} ({section_heading}) and {summary}',
        flush=True)


if __name__ == '__main__':
  cli.run(main)
