r"""Where a train step's time goes: TensorFlow's profiler, summed per op type.

    python -m bench.profile_step [--config=pushing_dfo] [--variant=float32]
        [--steps=10] [--output=docs/benchmarks.md]

Builds the agent of a `bench.throughput` configuration, trains it on one
fixed in-memory batch (so no time waits on data), profiles `--steps` train
steps after warm-up with `tf.profiler`, and sums the time of every executed
op by op type. The dense products' share of the op time and the GFLOP/s they
reach inside their own kernels say whether a step's gap to the matmul
roofline is in the products or around them. The `## Train-step profile`
section of --output is written (or replaced).
"""
import collections
import datetime
import glob
import os
import shlex
import tempfile
import time
from typing import Dict, Sequence, Tuple

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


def format_section(command: str, config: throughput_configs.Config,
                   variant: throughput.Variant, steps: int,
                   by_type: Dict[str, float], wall: float,
                   roofline: float, top: int) -> str:
  """The Markdown section: per-op-type table and the products' own speed."""
  total = sum(by_type.values())
  matmul = sum(seconds for op, seconds in by_type.items()
               if 'MatMul' in op)  # oneDNN's products, fused or not
  flops = flops_model.train_step_flops(config)
  rows = ['| op type | ms per step | share of op time |', '| --- | --- | --- |']
  ranked = sorted(by_type.items(), key=lambda item: -item[1])
  for op, seconds in ranked[:top]:
    rows.append(f'| {op} | {1e3 * seconds / steps:.1f} '
                f'| {100 * seconds / total:.1f}% |')
  rest = sum(seconds for _, seconds in ranked[top:])
  rows.append(f'| {len(ranked) - top} other op types | '
              f'{1e3 * rest / steps:.1f} | {100 * rest / total:.1f}% |')
  return '\n\n'.join([
      HEADING,
      f'`{command}`',
      f'Machine: {report.machine_description()}; TensorFlow {tf.__version__}. '
      f'Date: {datetime.date.today().isoformat()}. Load average (1 min) at '
      f'the end: {os.getloadavg()[0]:.1f}. Configuration {config.name} '
      f'({variant.name}), {steps} profiled train steps on one fixed batch '
      'after warm-up.',
      '\n'.join(rows),
      f'Step wall time {1e3 * wall / steps:.0f} ms; op time summed over '
      f'the executor threads {1e3 * total / steps:.0f} ms per step (ops '
      'overlap when the executor runs independent ones at once, so shares '
      f'are of the summed time). Matrix-product kernels take '
      f'{100 * matmul / total:.0f}% of it. The step\'s '
      f'{flops / 1e9:.3g} GFLOP of products (counted from the shapes) would '
      f'take {1e3 * flops / roofline / 1e9:.0f} ms at the dense matmul '
      f'roofline measured in the same process ({roofline:.0f} GFLOP/s); '
      f'the step reaches {flops * steps / wall / 1e9:.0f} GFLOP/s, '
      f'{100 * flops * steps / wall / 1e9 / roofline:.0f}% of it.'
      + _forward_backward_note(config, by_type, steps),
  ]) + '\n'


def _forward_backward_note(config: throughput_configs.Config,
                           by_type: Dict[str, float], steps: int) -> str:
  """Kernel GFLOP/s of the forward and the backward products, if separable.

  The network's forward products are fused with their bias (oneDNN's
  _MklNativeFusedMatMul) and hold a third of a plain step's product FLOPs;
  the backward pass's products are plain (_MklMatMul). Langevin chains mix
  both, so no split is given for them.
  """
  fused = by_type.get('_MklNativeFusedMatMul', 0.0)
  plain = by_type.get('_MklMatMul', 0.0)
  if config.langevin_iterations or not fused or not plain:
    return ''
  flops = flops_model.train_step_flops(config) * steps
  return (f' Forward products (fused with the bias, a third of the FLOPs): '
          f'{1e3 * fused / steps:.0f} ms per step, '
          f'{flops / 3 / fused / 1e9:.0f} GFLOP/s of kernel time; backward '
          f'products (plain, two thirds): {1e3 * plain / steps:.0f} ms, '
          f'{2 * flops / 3 / plain / 1e9:.0f} GFLOP/s.')


def _define_flags(values: flags.FlagValues) -> None:
  flags.DEFINE_enum('config', 'pushing_dfo', sorted(throughput_configs.CONFIG_FILES),
                    'A bench.throughput configuration.', flag_values=values)
  flags.DEFINE_enum('variant', 'float32', sorted(throughput_configs.VARIANTS),
                    'Its precision and XLA variant.', flag_values=values)
  flags.DEFINE_integer('steps', 10, 'Profiled train steps.', lower_bound=1,
                       flag_values=values)
  flags.DEFINE_integer('top', 12, 'Op types listed; the rest are summed.',
                       lower_bound=1, flag_values=values)
  flags.DEFINE_string('output', 'docs/benchmarks.md',
                      'Markdown file whose profile section is written.',
                      flag_values=values)


def parse_args(argv: Sequence[str]) -> cli.Args:
  """Parses and checks the command line."""
  return cli.parse(_define_flags, argv, 'bench.profile_step')


def main(argv: Sequence[str]) -> None:
  args = parse_args(argv)
  config = throughput_configs.get(args.config)
  variant = throughput_configs.VARIANTS[args.variant]
  by_type, wall = profile_train_steps(config, variant, args.steps)
  roofline = throughput.matmul_gflops(
      config.matmul_rows, config.width, tf.as_dtype(variant.compute_dtype),
      repeats=10)
  command = shlex.join(['python', '-m', 'bench.profile_step', *argv])
  section = format_section(command, config, variant, args.steps, by_type,
                           wall, roofline, args.top)
  report.write_section(args.output, HEADING, section)
  print(section)
  print(f'profile_step: wrote {args.output} ({HEADING})', flush=True)


if __name__ == '__main__':
  cli.run(main)
