r"""What each lever does to a train step's time, timed in interleaved rounds.

    python -m bench.step_levers \
        [--gin_file=gin_configs/particle/ibc_langevin_paper.gin] \
        --variant='xla=ImplicitBCAgent.jit_compile = True' \
        [--other_gin_files=gin_configs/particle/ibc_langevin_nd.gin] \
        [--rounds=4] [--output=docs/benchmarks.md] \
        [--summary=docs/results/step_levers.json]

Builds the agent of --gin_file as it trains (its network, sampler and loss;
the `bench.throughput` way: synthetic demonstrations, identity
normalisers), once as configured and once per --variant (gin bindings over
it, separated by ";"), and the agents of --other_gin_files. Each trains on
one fixed batch, so no time waits on data. Every round times every case in
turn, each for as many steps as the slowest case's one (at least one), so
that load which moves during the run falls on all of them alike; a case's
speed-up is the median over rounds of the configuration's time per step
over the case's in the same round. The record goes to --summary and the
`## Train-step levers: <gin file>` section of --output is written (or
replaced) from it, as `bench.results_tables` renders it.
"""
import os
import shlex
import time
from typing import Any, Callable, Dict, List, Sequence

from absl import flags
import gin
import tensorflow as tf

from bench import cli
from bench import flops as flops_model
from bench import report
from bench import throughput
from bench import throughput_configs
from data_tools import memory_replay

RECORD_NAME = 'step_levers'  # docs/results/step_levers[_LABEL].json
BASELINE = 'as configured'  # the case of --gin_file without bindings
_WARMUP_STEPS = 2  # untimed steps per case (tracing, XLA compilation)
_MAX_STEPS_PER_ROUND = 20


def heading(gin_file: str) -> str:
  return f'## Train-step levers: {os.path.basename(gin_file)}'


def _timed_step(gin_file: str, bindings: Sequence[str]
                ) -> tuple[Callable[[], Any], Dict[str, Any]]:
  """A callable taking one train step of the agent `gin_file` and
  `bindings` configure, on a fixed batch, and the case's shapes."""
  name = os.path.splitext(os.path.basename(gin_file))[0]
  config = throughput_configs.from_gin_file(name, gin_file, '',
                                            bindings=bindings)
  spec = throughput.data_spec(config)
  held = memory_replay.InMemoryDemonstrations(
      throughput.synthetic_episodes(spec, 20, 50), spec,
      config.history_length)
  experience = next(iter(held.as_dataset(config.batch_size))).data
  gin.clear_config()
  try:
    gin.parse_config_files_and_bindings([gin_file], bindings)
    train = tf.function(throughput.make_agent(config, spec).train)
    step = lambda: train(experience).loss.numpy()
    for _ in range(_WARMUP_STEPS):  # traced while the bindings hold
      step()
  finally:
    gin.clear_config()
  return step, dict(batch_size=config.batch_size,
                    gflop_per_step=flops_model.train_step_flops(config) / 1e9)


def _one_step_seconds(step: Callable[[], Any]) -> float:
  start = time.perf_counter()
  step()
  return time.perf_counter() - start


def measure(cases: Sequence[Dict[str, Any]], rounds: int
            ) -> List[Dict[str, Any]]:
  """Each case ({name, gin_file, bindings}) with its seconds per step in
  every round, its steps per round and its shapes; the first case is the
  baseline of the speed-ups."""
  steps, measured = [], []
  for case in cases:
    step, shapes = _timed_step(case['gin_file'], case['bindings'])
    steps.append(step)
    measured.append(dict(case, **shapes, first_step_seconds=_one_step_seconds(
        step), seconds_per_step=[]))
    print(f'step_levers: built {case["name"]} '
          f'({measured[-1]["first_step_seconds"]:.3f} s a step)', flush=True)
  slowest = max(case['first_step_seconds'] for case in measured)
  for case in measured:
    case['steps_per_round'] = max(1, min(_MAX_STEPS_PER_ROUND, round(
        slowest / case['first_step_seconds'])))
  for round_index in range(rounds):
    for step, case in zip(steps, measured):
      start = time.perf_counter()
      for _ in range(case['steps_per_round']):
        step()
      case['seconds_per_step'].append(
          (time.perf_counter() - start) / case['steps_per_round'])
    print(f'step_levers: round {round_index + 1}/{rounds}: ' + ', '.join(
        f'{case["name"]} {case["seconds_per_step"][-1]:.3f} s'
        for case in measured), flush=True)
  baseline = measured[0]['seconds_per_step']
  for case in measured:
    case['speedup_per_round'] = [base / seconds for base, seconds in
                                 zip(baseline, case['seconds_per_step'])]
  return measured


def _define_flags(values: flags.FlagValues) -> None:
  flags.DEFINE_string('gin_file', 'gin_configs/particle/ibc_langevin_paper.gin',
                      'The configuration whose levers are timed.',
                      flag_values=values)
  flags.DEFINE_multi_string(
      'variant', [], 'NAME=BINDING[;BINDING...]: a lever, bound over '
      '--gin_file (repeatable).', flag_values=values)
  flags.DEFINE_list('other_gin_files', [],
                    'Other configurations timed in the same rounds.',
                    flag_values=values)
  flags.DEFINE_integer('rounds', 4, 'Interleaved timing rounds.',
                       lower_bound=1, flag_values=values)
  cli.define_record_flags(values, RECORD_NAME)


def parse_args(argv: Sequence[str]) -> cli.Args:
  """Parses and checks the command line."""
  args = cli.parse(_define_flags, argv, 'bench.step_levers')
  cli.require_record_name(args.summary, RECORD_NAME)
  for path in [args.gin_file, *args.other_gin_files]:
    cli.require(os.path.isfile(path), f'{path} is not a gin file')
  args.cases = [dict(name=BASELINE, gin_file=args.gin_file, bindings=[])]
  for text in args.variant:
    name, bindings = cli.named_bindings('--variant', text, BASELINE)
    args.cases.append(dict(name=name, gin_file=args.gin_file,
                           bindings=list(bindings)))
  for path in args.other_gin_files:
    args.cases.append(dict(name=os.path.basename(path), gin_file=path,
                           bindings=[]))
  names = [case['name'] for case in args.cases]
  cli.require(len(set(names)) == len(names),
              f'each case needs its own name, got {names}')
  return args


def main(argv: Sequence[str]) -> None:
  args = parse_args(argv)
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
  load_before = os.getloadavg()[0]
  cases = measure(args.cases, args.rounds)
  command = shlex.join(['python', '-m', 'bench.step_levers', *argv])
  section = heading(args.gin_file)
  record = dict(
      report.provenance(command), section=section, gin_file=args.gin_file,
      rounds=args.rounds, warmup_steps=_WARMUP_STEPS,
      tensorflow=tf.__version__,
      threads={name: os.environ.get(name) for name in (
          'TF_NUM_INTRAOP_THREADS', 'TF_NUM_INTEROP_THREADS')},
      load_average=[load_before, os.getloadavg()[0]], cases=cases)
  print(report.write_record_section(args.output, section, args.summary,
                                    record))
  print(f'step_levers: wrote {args.output} ({section}) and {args.summary}',
        flush=True)


if __name__ == '__main__':
  cli.run(main)
