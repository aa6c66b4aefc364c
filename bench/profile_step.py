r"""Where a train step's time goes: TensorFlow's profiler, summed per op type.

    python -m bench.profile_step [--config=pushing_dfo] [--variant=float32] \
        [--steps=10] [--output=docs/benchmarks.md] \
        [--summary=docs/results/profile_step.json]

Builds the agent of a `bench.throughput` configuration, trains it on one
fixed in-memory batch (so no time waits on data), profiles `--steps` train
steps after warm-up with `tf.profiler`, and sums the time of every executed
op by op type. The dense products' share of the op time and the GFLOP/s they
reach inside their own kernels say whether a step's gap to the matmul
roofline is in the products or around them. The record goes to --summary
and the `## Train-step profile` section of --output is written (or
replaced) from it, as `bench.results_tables` renders it.
"""
import collections
import glob
import os
import shlex
import tempfile
import time
from typing import Any, Dict, Sequence, Tuple

from absl import flags
import gin
import tensorflow as tf
from tensorflow.tsl.profiler.protobuf import xplane_pb2
from tf_agents.train import learner as tf_agents_learner

from bench import cli
from bench import flops as flops_model
from bench import report
from bench import throughput
from bench import throughput_configs
from data_tools import replay

HEADING = '## Train-step profile'
RECORD_NAME = 'profile_step'  # docs/results/profile_step[_LABEL].json
_COMPUTE_LINE = 'tf_Compute'  # executor threads; their events are ops


def op_seconds_by_type(xspace_path: str) -> Dict[str, float]:
  """Seconds spent in each op type, over every executor thread of a profile.

  Executor events are named 'op_name:OpType'; other events on those threads
  (the executor's own, named 'Class::method') are left out.
  """
  space = xplane_pb2.XSpace()
  with open(xspace_path, 'rb') as f:
    space.ParseFromString(f.read())
  seconds: Dict[str, float] = collections.defaultdict(float)
  for plane in space.planes:
    for line in plane.lines:
      if not line.name.startswith(_COMPUTE_LINE):
        continue
      for event in line.events:
        name = plane.event_metadata[event.metadata_id].name
        if ':' in name and '::' not in name:
          seconds[name.rsplit(':', 1)[1]] += event.duration_ps * 1e-12
  return dict(seconds)


def profile_train_steps(config: throughput_configs.Config,
                        variant: throughput.Variant, steps: int,
                        warmup_steps: int = 3
                        ) -> Tuple[Dict[str, float], float]:
  """(op seconds by type, wall seconds) of `steps` train steps on a fixed batch."""
  throughput.bind(config, variant)
  spec = throughput.data_spec(config)
  episodes = throughput.synthetic_episodes(spec, min(20, config.max_episodes),
                                           100)
  with replay.DemonstrationReplay(episodes, spec,
                                  config.history_length) as served, \
      tempfile.TemporaryDirectory() as work_dir:
    agent = throughput.make_agent(config, served.data_spec)
    batch = next(iter(served.as_dataset(config.batch_size)))
    batches = iter(tf.data.Dataset.from_tensors(batch).repeat())
    learner = tf_agents_learner.Learner(
        os.path.join(work_dir, 'run'), agent.train_step_counter, agent,
        experience_dataset_fn=lambda: served.as_dataset(config.batch_size),
        checkpoint_interval=0, summary_interval=0, use_reverb_v2=True)
    learner.run(iterations=warmup_steps, iterator=batches)
    profile_dir = os.path.join(work_dir, 'profile')
    tf.profiler.experimental.start(profile_dir)
    start = time.perf_counter()
    for _ in range(steps):
      learner.run(iterations=1, iterator=batches)
    wall = time.perf_counter() - start
    tf.profiler.experimental.stop()
    [path] = glob.glob(os.path.join(profile_dir, '**', '*.xplane.pb'),
                       recursive=True)
    by_type = op_seconds_by_type(path)
  gin.clear_config()
  return by_type, wall


def measurement(config: throughput_configs.Config,
                variant: throughput.Variant, steps: int,
                by_type: Dict[str, float], wall: float, roofline: float,
                top: int) -> Dict[str, Any]:
  """The record's figures: ms per step of every op type, the step's wall
  time, its product FLOPs and the roofline they are set against."""
  return dict(
      config=config.name, variant=variant.name, steps=steps, top=top,
      tensorflow=tf.__version__, load_average=os.getloadavg()[0],
      # Langevin chains mix forward and backward products in one step.
      splits_forward_backward=not config.langevin_iterations,
      op_ms_per_step={op: 1e3 * seconds / steps
                      for op, seconds in sorted(by_type.items(),
                                                key=lambda item: -item[1])},
      wall_ms_per_step=1e3 * wall / steps,
      product_flops_per_step=flops_model.train_step_flops(config),
      roofline_gflops=roofline)


def _define_flags(values: flags.FlagValues) -> None:
  flags.DEFINE_enum('config', 'pushing_dfo',
                    sorted(throughput_configs.CONFIG_FILES),
                    'A bench.throughput configuration.', flag_values=values)
  flags.DEFINE_enum('variant', 'float32', sorted(throughput_configs.VARIANTS),
                    'Its precision and XLA variant.', flag_values=values)
  flags.DEFINE_integer('steps', 10, 'Profiled train steps.', lower_bound=1,
                       flag_values=values)
  flags.DEFINE_integer('top', 12, 'Op types listed; the rest are summed.',
                       lower_bound=1, flag_values=values)
  cli.define_record_flags(values, RECORD_NAME)


def parse_args(argv: Sequence[str]) -> cli.Args:
  """Parses and checks the command line."""
  args = cli.parse(_define_flags, argv, 'bench.profile_step')
  cli.require_record_name(args.summary, RECORD_NAME)
  return args


def main(argv: Sequence[str]) -> None:
  args = parse_args(argv)
  config = throughput_configs.get(args.config)
  variant = throughput_configs.VARIANTS[args.variant]
  by_type, wall = profile_train_steps(config, variant, args.steps)
  roofline = throughput.matmul_gflops(
      config.matmul_rows, config.width, tf.as_dtype(variant.compute_dtype),
      repeats=10)
  command = shlex.join(['python', '-m', 'bench.profile_step', *argv])
  record = dict(report.provenance(command), section=HEADING,
                **measurement(config, variant, args.steps, by_type, wall,
                              roofline, args.top))
  print(report.write_record_section(args.output, HEADING, args.summary,
                                    record))
  print(f'profile_step: wrote {args.output} ({HEADING}) and {args.summary}',
        flush=True)


if __name__ == '__main__':
  cli.run(main)
