"""Demonstration windows per second: our Reverb dataset vs ReverbReplayBuffer's.

    python -m bench.replay_throughput [--num_episodes=1000] [--batch_size=256]

Both read the same table on the same embedded server; the ratio is what
matters (the learner needs one batch per train step).
"""
import statistics
import tempfile
import time

from absl import app
from absl import flags
import tensorflow as tf
from tf_agents.replay_buffers import reverb_replay_buffer

from bench import report
from data_tools import collect
from data_tools import demos
from data_tools import replay

flags.DEFINE_integer('num_episodes', 1000, 'Particle oracle episodes to serve.')
flags.DEFINE_integer('batch_size', 256, 'Windows per batch.')
flags.DEFINE_integer('history_length', 2, 'Steps per window.')
flags.DEFINE_integer('num_batches', 100, 'Batches timed per repeat.')
flags.DEFINE_integer('repeats', 5, 'Timed repeats (the median is reported).')
FLAGS = flags.FLAGS


def _batches_per_second(dataset: tf.data.Dataset) -> float:
  """Median batches/s over the repeats, after a warm-up."""
  iterator = iter(dataset)
  for _ in range(10):
    next(iterator)
  rates = []
  for _ in range(FLAGS.repeats):
    start = time.perf_counter()
    for _ in range(FLAGS.num_batches):
      next(iterator)
    rates.append(FLAGS.num_batches / (time.perf_counter() - start))
  return statistics.median(rates)


def main(argv):
  del argv
  with tempfile.TemporaryDirectory() as data_dir:
    shards = collect.collect('PARTICLE', FLAGS.num_episodes, data_dir,
                             num_workers=2)
    episodes = demos.load_episodes(shards)
    spec = tf.nest.map_structure(
        lambda x: tf.TensorSpec(x.shape[1:], tf.as_dtype(x.dtype)), episodes[0])
    with replay.DemonstrationReplay(episodes, spec,
                                    FLAGS.history_length) as served:
      ours = _batches_per_second(served.as_dataset(FLAGS.batch_size))
      buffer = reverb_replay_buffer.ReverbReplayBuffer(
          spec, replay.TABLE_NAME, FLAGS.history_length,
          local_server=served.server)
      theirs = _batches_per_second(buffer.as_dataset(
          sample_batch_size=FLAGS.batch_size,
          num_steps=FLAGS.history_length).prefetch(4))
  print(f'machine: {report.machine_description()}')
  print(f'windows: {served.num_items}, batch {FLAGS.batch_size}, '
        f'history {FLAGS.history_length}')
  print('| reader | batches/s (median) | windows/s |')
  print('| --- | --- | --- |')
  for name, rate in (('DemonstrationReplay.as_dataset', ours),
                     ('ReverbReplayBuffer.as_dataset', theirs)):
    print(f'| {name} | {rate:.0f} | {rate * FLAGS.batch_size:.0f} |')
  print(f'ratio: {ours / theirs:.1f}x')


if __name__ == '__main__':
  app.run(main)
