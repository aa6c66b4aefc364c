r"""PUSH against the original implementation's own demonstrations.

    python -m bench.push_fidelity [--episodes=100] [--seed=0] \
        [--output=docs/benchmarks.md] [--summary=docs/results/push_fidelity.json]

Two measurements of whether our PUSH behaves as the original's:

- the medians of our oracle's demonstrations (move per step, effector lag,
  episode length; `environments.block_pushing.oracle_stats`) beside the
  same medians of the 20 episodes the original code wrote;
- those 20 episodes replayed open loop from their recorded first poses
  (`environments.block_pushing.fidelity`): how far the block strays from
  its recorded path, and how many replays still end on success.

The record goes to --summary and the `## PUSH physics as the original's`
section of --output is written (or replaced) from it.
"""
import os
import shlex
from typing import Sequence

from absl import flags

from bench import cli
from bench import report
from environments.block_pushing import fidelity
from environments.block_pushing import oracle_stats

HEADING = "## PUSH physics as the original's"
RECORD_NAME = 'push_fidelity'  # docs/results/push_fidelity[_LABEL].json
RECORDING = os.path.join('tests', 'environments', 'block_pushing', 'data',
                         'original_push_episodes.npz')


def _define_flags(values: flags.FlagValues) -> None:
  flags.DEFINE_integer('episodes', 100, 'Oracle episodes of our PUSH.',
                       lower_bound=1, flag_values=values)
  flags.DEFINE_integer('seed', 0, 'Seed of the first oracle episode.',
                       flag_values=values)
  flags.DEFINE_string('recording', RECORDING,
                      "The original's recorded PUSH episodes (.npz).",
                      flag_values=values)
  cli.define_record_flags(values, RECORD_NAME)


def main(argv: Sequence[str]) -> None:
  args = cli.parse(_define_flags, argv, 'bench.push_fidelity')
  cli.require_record_name(args.summary, RECORD_NAME)
  cli.require(os.path.isfile(args.recording),
              f'--recording: no such file: {args.recording}')
  command = shlex.join(['python', '-m', 'bench.push_fidelity', *argv])
  record = dict(
      report.provenance(command), section=HEADING, recording=args.recording,
      oracle=dict(episodes=args.episodes, seed=args.seed,
                  **oracle_stats.oracle_medians('PUSH', args.episodes,
                                                args.seed)),
      recorded=oracle_stats.reference_medians(args.recording),
      early_steps=fidelity.EARLY_STEPS,
      replay=fidelity.summary(fidelity.replay_episodes(args.recording)))
  print(report.write_record_section(args.output, HEADING, args.summary,
                                    record))


if __name__ == '__main__':
  cli.run(main)
