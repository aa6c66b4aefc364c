r"""Demonstration windows per second: our Reverb dataset against TF-Agents'.

    python -m bench.replay_throughput [--num_episodes=1000] \
        [--batch_size=256] [--output=docs/benchmarks.md] \
        [--summary=docs/results/replay_throughput.json]

Both read the same table on the same embedded server; the ratio is what
matters (the learner needs one batch per train step). The record goes to
--summary and the `## Replay throughput` section of --output is written (or
replaced) from it, as `bench.results_tables` renders it.
"""
import os
import shlex
import statistics
import tempfile
import time
from typing import Any, Dict, Sequence

from absl import flags
import tensorflow as tf
from tf_agents.replay_buffers import reverb_replay_buffer

from bench import cli
from bench import report
from data_tools import collect
from data_tools import demos
from data_tools import replay

HEADING = '## Replay throughput'
RECORD_NAME = 'replay_throughput'  # docs/results/replay_throughput.json
_WARMUP_BATCHES = 10


def _define_flags(values: flags.FlagValues) -> None:
  flags.DEFINE_integer('num_episodes', 1000,
                       'Particle oracle episodes to serve.', lower_bound=1,
                       flag_values=values)
  flags.DEFINE_integer('batch_size', 256, 'Windows per batch.', lower_bound=1,
                       flag_values=values)
  flags.DEFINE_integer('history_length', 2, 'Steps per window.',
                       lower_bound=1, flag_values=values)
  flags.DEFINE_integer('num_batches', 100, 'Batches timed per repeat.',
                       lower_bound=1, flag_values=values)
  flags.DEFINE_integer('repeats', 5, 'Timed repeats (the median is reported).',
                       lower_bound=1, flag_values=values)
  cli.define_record_flags(values, RECORD_NAME)


def batches_per_second(dataset: tf.data.Dataset, num_batches: int,
                       repeats: int) -> float:
  """Median batches/s over `repeats` of `num_batches`, after a warm-up."""
  iterator = iter(dataset)
  for _ in range(_WARMUP_BATCHES):
    next(iterator)
  rates = []
  for _ in range(repeats):
    start = time.perf_counter()
    for _ in range(num_batches):
      next(iterator)
    rates.append(num_batches / (time.perf_counter() - start))
  return statistics.median(rates)


def measure(args: cli.Args) -> Dict[str, Any]:
  """Both readers' batches/s on one table of particle oracle windows."""
  with tempfile.TemporaryDirectory() as data_dir:
    shards = collect.collect('PARTICLE', args.num_episodes, data_dir,
                             num_workers=2)
    episodes = demos.load_episodes(shards)
    spec = tf.nest.map_structure(
        lambda x: tf.TensorSpec(x.shape[1:], tf.as_dtype(x.dtype)), episodes[0])
    with replay.DemonstrationReplay(episodes, spec,
                                    args.history_length) as served:
      ours = batches_per_second(served.as_dataset(args.batch_size),
                                args.num_batches, args.repeats)
      buffer = reverb_replay_buffer.ReverbReplayBuffer(
          spec, replay.TABLE_NAME, args.history_length,
          local_server=served.server)
      theirs = batches_per_second(
          buffer.as_dataset(sample_batch_size=args.batch_size,
                            num_steps=args.history_length).prefetch(4),
          args.num_batches, args.repeats)
  return dict(
      episodes=args.num_episodes, windows=served.num_items,
      batch_size=args.batch_size, history_length=args.history_length,
      num_batches=args.num_batches, repeats=args.repeats,
      load_average=os.getloadavg()[0],
      readers=[dict(name='DemonstrationReplay.as_dataset',
                    batches_per_sec=ours),
               dict(name='ReverbReplayBuffer.as_dataset',
                    batches_per_sec=theirs)])


def main(argv: Sequence[str]) -> None:
  args = cli.parse(_define_flags, argv, 'bench.replay_throughput')
  cli.require_record_name(args.summary, RECORD_NAME)
  command = shlex.join(['python', '-m', 'bench.replay_throughput', *argv])
  record = dict(report.provenance(command), section=HEADING, **measure(args))
  print(report.write_record_section(args.output, HEADING, args.summary,
                                    record))


if __name__ == '__main__':
  cli.run(main)
