r"""Training and action-selection throughput against the machine's roofline.

    python -m bench.throughput [--quick] [--configs=pushing_dfo,pushing_mse]
        [--variants=float32,bfloat16,float32+xla] [--output=docs/benchmarks.md]
        [--summary=docs/results/throughput.json]

Each named configuration runs in a fresh process, on synthetic demonstrations
of the task's observation and action sizes (so no simulator is needed), for
every variant (compute precision, XLA on the train step). It measures:

- train steps/s through the agent's `train` as `tf_agents.train.Learner`
  compiles it, fed by a real embedded Reverb `DemonstrationReplay` (or, for
  "+memory" variants, `memory_replay.InMemoryDemonstrations`): median, min
  and max over the timed steps after warm-up (at least 20, and at least 10 s
  of them);
- the same step fed by one fixed in-memory batch, hence the fraction of the
  step spent waiting on data, and each source's batches/s on its own;
- FLOPs per step counted from the shapes (`bench.flops`), the
  achieved GFLOP/s, and a roofline measured in the same process: the best
  GFLOP/s of a dense matmul of the configuration's row count, width and dtype;
- greedy action latency (one observation, p50 and p99) of each sampler through
  `PyTFEagerPolicy`, with its FLOPs;
- the process's peak resident memory.

The run's record (provenance and one result per configuration) goes to
--summary, and its section of --output (`## Throughput` for
`throughput.json`, `## Throughput: LABEL` for `throughput_LABEL.json`) is
regenerated from it, as `bench.results_tables` renders it. --quick is a
smoke run (few steps, batch <= 16, <= 256 action samples) whose figures mean
nothing.

A configuration is a shipped gin file, read by `bench.throughput_configs`;
the report is written by `bench.throughput_report`.
"""
import concurrent.futures
import dataclasses
import multiprocessing
import os
import re
import resource
import shlex
import statistics
import tempfile
import time
from typing import Any, Callable, Dict, List, Sequence

from absl import flags
import gin
import numpy as np
import tensorflow as tf
from tf_agents.policies import py_tf_eager_policy
from tf_agents.policies import tf_policy
from tf_agents.specs import tensor_spec
from tf_agents.train import learner as tf_agents_learner
from tf_agents.trajectories import time_step as ts
from tf_agents.trajectories import trajectory
from tf_agents.typing import types

from bench import cli
from bench import flops
from bench import report
from bench import throughput_configs
from bench import throughput_report
from data_tools import memory_replay
from data_tools import replay
from ibc_agents import bc_common
from ibc_agents import ibc_policy
from ibc_agents import normalization
from ibc_agents import samplers

# The dense matmul (131584 x 128 x 128) on the reference figures' machine.


Config = throughput_configs.Config
Variant = throughput_configs.Variant
VARIANTS = throughput_configs.VARIANTS
SAMPLERS = {'dfo': samplers.dfo_maximize, 'langevin': samplers.langevin_maximize}


@dataclasses.dataclass(frozen=True)
class Budget:
  """How long each measurement runs."""
  warmup_steps: int = 3
  timed_steps: int = 20
  min_train_seconds: float = 10.0  # fast steps are timed for this long
  replay_batches: int = 50
  warmup_calls: int = 5
  timed_calls: int = 50
  matmul_repeats: int = 10
  num_episodes: int = 100
  episode_length: int = 100


QUICK_BUDGET = Budget(warmup_steps=1, timed_steps=2, min_train_seconds=0.0,
                      replay_batches=3,
                      warmup_calls=1, timed_calls=3, matmul_repeats=2,
                      num_episodes=8, episode_length=20)


def quick_config(config: Config) -> Config:
  """The configuration with a small batch and few action samples."""
  return dataclasses.replace(
      config, batch_size=min(config.batch_size, 16),
      num_action_samples=min(config.num_action_samples, 256))


def gin_bindings(config: Config, variant: Variant) -> List[str]:
  """Bindings of the variant, and of `quick_config`'s smaller sizes."""
  network = config.network_class.__name__
  agent = config.agent_class.__name__
  bindings = [f'train_eval.batch_size = {config.batch_size}',
              f'{network}.compute_dtype = {variant.compute_dtype!r}',
              f'{agent}.jit_compile = {variant.jit_compile}']
  if config.num_action_samples:
    bindings.append(
        f'IbcPolicy.num_action_samples = {config.num_action_samples}')
  return bindings


def bind(config: Config, variant: Variant) -> None:
  """Replaces the gin config with `config`'s gin file and the variant's."""
  gin.clear_config()
  gin.parse_config_files_and_bindings([config.gin_file],
                                      gin_bindings(config, variant))


def data_spec(config: Config) -> trajectory.Trajectory:
  """The single-step demonstration spec of `config`."""
  return trajectory.Trajectory(
      step_type=tf.TensorSpec((), tf.int32),
      observation=dict(config.observation_spec),
      action=tensor_spec.BoundedTensorSpec((config.action_size,), tf.float32,
                                           -1.0, 1.0),
      policy_info=(),
      next_step_type=tf.TensorSpec((), tf.int32),
      reward=tf.TensorSpec((), tf.float32),
      discount=tf.TensorSpec((), tf.float32))


def synthetic_episodes(spec: trajectory.Trajectory, num_episodes: int,
                       length: int, seed: int = 0
                       ) -> List[trajectory.Trajectory]:
  """Episodes [L, ...] of random observations and actions: FIRST, MID..., LAST."""
  rng = np.random.default_rng(seed)
  step_type = np.ones(length, np.int32)
  step_type[0], step_type[-1] = ts.StepType.FIRST, ts.StepType.LAST
  next_step_type = np.roll(step_type, -1)

  def leaf(leaf_spec: tf.TensorSpec) -> np.ndarray:
    shape = (length,) + tuple(leaf_spec.shape)
    if leaf_spec.dtype == tf.uint8:  # an image
      return rng.integers(0, 256, shape, np.uint8)
    return rng.uniform(-1.0, 1.0, shape).astype(leaf_spec.dtype.as_numpy_dtype)

  return [trajectory.Trajectory(
      step_type=step_type, observation=tf.nest.map_structure(
          leaf, spec.observation), action=leaf(spec.action), policy_info=(),
      next_step_type=next_step_type, reward=np.zeros(length, np.float32),
      discount=np.ones(length, np.float32)) for _ in range(num_episodes)]


def make_agent(config: Config, spec: trajectory.Trajectory
               ) -> bc_common.BCAgentBase:
  """The gin-configured agent on `config`'s specs, with identity normalisers."""
  observation_spec = tensor_spec.add_outer_dims_nest(
      spec.observation, (config.history_length,))
  time_step_spec = ts.time_step_spec(observation_spec)

  def identity(statistic: float) -> Callable[[tf.TensorSpec], Any]:
    return lambda leaf_spec: (np.full(leaf_spec.shape, statistic)
                              if leaf_spec.dtype.is_floating else None)

  return config.agent_class(
      time_step_spec, spec.action,
      config.network_class(observation_spec, spec.action),
      tf.keras.optimizers.Adam(1e-3),
      observation_normalizer=normalization.ObservationNormalizer(
          tf.nest.map_structure(identity(0.0), spec.observation),
          tf.nest.map_structure(identity(1.0), spec.observation)),
      training_data_spec=spec,
      train_step_counter=tf.Variable(0, dtype=tf.int64))


def timed_policies(config: Config, agent: bc_common.BCAgentBase
                   ) -> Dict[str, tf_policy.TFPolicy]:
  """The greedy policies whose latency is measured, by sampler name."""
  if not config.act_samplers:
    return {'regression': agent.policy}
  return {name: ibc_policy.IbcPolicy(
      agent.time_step_spec, agent.action_spec, agent.cloning_network,
      action_normalizer=agent.action_normalizer,
      observation_normalizer=agent.observation_normalizer,
      num_action_samples=config.num_action_samples, sampler=SAMPLERS[name])
          for name in config.act_samplers}


def _seconds(run: Callable[[], Any], warmup: int, repeats: int,
             min_seconds: float = 0.0) -> List[float]:
  """Wall seconds of each call of `run` after `warmup` calls: at least
  `repeats` calls, and more until they take `min_seconds` in all."""
  for _ in range(warmup):
    run()
  seconds = []
  while len(seconds) < repeats or sum(seconds) < min_seconds:
    start = time.perf_counter()
    run()
    seconds.append(time.perf_counter() - start)
  return seconds


def matmul_gflops(rows: int, width: int, dtype: tf.DType,
                  repeats: int) -> float:
  """Best GFLOP/s of [rows, width] x [width, width] products (8 chained per call)."""
  chain = 8
  inputs = tf.cast(tf.random.normal([rows, width]), dtype)
  kernel = tf.cast(tf.random.normal([width, width]) / width**0.5, dtype)

  @tf.function
  def products(x: tf.Tensor) -> tf.Tensor:
    for _ in range(chain):
      x = tf.matmul(x, kernel)
    return x

  best = min(_seconds(lambda: products(inputs).numpy(), 2, repeats))
  return 2.0 * rows * width * width * chain / best / 1e9


def replay_batches_per_second(dataset: tf.data.Dataset,
                              budget: Budget) -> float:
  """Batches/s read from the replay dataset alone, after a warm-up."""
  iterator = iter(dataset)
  seconds = _seconds(lambda: next(iterator), 5, budget.replay_batches)
  return len(seconds) / sum(seconds)


def action_latency(config: Config, name: str, policy: tf_policy.TFPolicy,
                   observation: types.NestedArray,
                   budget: Budget) -> Dict[str, float]:
  """p50 / p99 milliseconds of one action for one observation [1, T, ...]."""
  eager_policy = py_tf_eager_policy.PyTFEagerPolicy(
      policy, use_tf_function=True, batch_time_steps=False)
  time_step = ts.TimeStep(
      step_type=np.full([1], ts.StepType.MID, np.int32),
      reward=np.zeros([1], np.float32), discount=np.ones([1], np.float32),
      observation=observation)
  milliseconds = 1e3 * np.array(_seconds(
      lambda: eager_policy.action(time_step), budget.warmup_calls,
      budget.timed_calls))
  return dict(sampler=name, p50_ms=float(np.percentile(milliseconds, 50)),
              p99_ms=float(np.percentile(milliseconds, 99)),
              gflop=flops.action_flops(config, name) / 1e9)


def _median_min_max(seconds: Sequence[float]) -> Dict[str, float]:
  """Steps/s of the median, slowest and fastest step."""
  return dict(median=1.0 / statistics.median(seconds),
              min=1.0 / max(seconds), max=1.0 / min(seconds))


def measure_variant(config: Config, variant: Variant,
                    served: replay.DemonstrationReplay,
                    held: memory_replay.InMemoryDemonstrations,
                    budget: Budget) -> Dict[str, Any]:
  """Train steps/s with real and fixed data, roofline, action latency.

  The real data comes from `held` for variants that sample in memory, else
  from `served`.
  """
  print(f'throughput: {config.name} {variant.name}', flush=True)
  source = held if variant.sample_in_memory else served
  bind(config, variant)
  agent = make_agent(config, source.data_spec)
  with tempfile.TemporaryDirectory() as root_dir:
    learner = tf_agents_learner.Learner(
        root_dir, agent.train_step_counter, agent,
        experience_dataset_fn=lambda: source.as_dataset(config.batch_size),
        checkpoint_interval=0, summary_interval=0, use_reverb_v2=True)
    real = _seconds(lambda: learner.run(iterations=1), budget.warmup_steps,
                    budget.timed_steps, budget.min_train_seconds)
    batch = next(iter(source.as_dataset(config.batch_size)))
    observation = tf.nest.map_structure(lambda x: x[:1].numpy(),
                                        batch.data.observation)  # [1, T, ...]
    fixed_batches = iter(tf.data.Dataset.from_tensors(batch).repeat())
    fixed = _seconds(lambda: learner.run(iterations=1, iterator=fixed_batches),
                     budget.warmup_steps, budget.timed_steps,
                     budget.min_train_seconds)
  step_flops = flops.train_step_flops(config)
  steps_per_sec = _median_min_max(real)
  roofline = matmul_gflops(config.matmul_rows, config.width,
                           tf.as_dtype(variant.compute_dtype),
                           budget.matmul_repeats)
  achieved = step_flops * steps_per_sec['median'] / 1e9
  result = dict(
      variant=variant.name, steps_per_sec=steps_per_sec,
      fixed_batch_steps_per_sec=_median_min_max(fixed),
      data_wait_fraction=max(
          0.0, 1.0 - statistics.median(fixed) / statistics.median(real)),
      gflop_per_step=step_flops / 1e9, achieved_gflops=achieved,
      roofline_gflops=roofline, roofline_fraction=achieved / roofline,
      # XLA compiles the train step only: the policies are the same.
      actions=[] if variant.jit_compile else [
          action_latency(config, name, policy, observation, budget)
          for name, policy in timed_policies(config, agent).items()])
  gin.clear_config()
  return result


def measure_config(name: str, variant_names: Sequence[str],
                   quick: bool) -> Dict[str, Any]:
  """Every measurement of one configuration; meant for a fresh process."""
  tf.random.set_seed(0)
  budget = QUICK_BUDGET if quick else Budget()
  config = throughput_configs.get(name)
  config = quick_config(config) if quick else config
  spec = data_spec(config)
  load_start = os.getloadavg()[0]
  episodes = synthetic_episodes(
      spec, min(budget.num_episodes, config.max_episodes),
      budget.episode_length)
  held = memory_replay.InMemoryDemonstrations(episodes, spec,
                                              config.history_length)
  memory_rate = replay_batches_per_second(held.as_dataset(config.batch_size),
                                          budget)
  with replay.DemonstrationReplay(episodes, spec,
                                  config.history_length) as served:
    replay_rate = replay_batches_per_second(
        served.as_dataset(config.batch_size), budget)
    variants = [measure_variant(config, VARIANTS[variant], served, held,
                                budget)
                for variant in variant_names]
  return dict(
      config=name, description=config.description,
      batch_size=config.batch_size, width=config.width, depth=config.depth,
      num_counter_examples=config.num_counter_examples,
      langevin_iterations=config.langevin_iterations,
      num_action_samples=config.num_action_samples,
      matmul_rows=config.matmul_rows, reference=config.reference,
      replay_batches_per_sec=replay_rate,
      memory_batches_per_sec=memory_rate,
      peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
      load_average=[load_start, os.getloadavg()[0]], quick=quick,
      variants=variants)


def _run_in_fresh_processes(names: Sequence[str], variants: Sequence[str],
                            quick: bool) -> List[Dict[str, Any]]:
  """`measure_config` of each configuration, each in its own process."""
  results = []
  context = multiprocessing.get_context('spawn')
  for name in names:
    with concurrent.futures.ProcessPoolExecutor(
        max_workers=1, mp_context=context) as executor:
      results.append(executor.submit(measure_config, name, variants,
                                     quick).result())
  return results


def _define_flags(values: flags.FlagValues) -> None:
  names = list(throughput_configs.CONFIG_FILES)
  cli.define_configs(values, f'Of: {", ".join(names)}.', default=names)
  flags.DEFINE_list('variants', list(throughput_configs.DEFAULT_VARIANTS),
                    f'Of: {", ".join(VARIANTS)}.', flag_values=values)
  flags.DEFINE_bool('quick', False,
                    'A few steps with small batches: a smoke run.',
                    flag_values=values)
  flags.DEFINE_string('output', 'docs/benchmarks.md',
                      'Markdown file whose Throughput section is written.',
                      flag_values=values)
  flags.DEFINE_string('summary', 'docs/results/throughput.json',
                      'JSON record of the run: throughput.json or '
                      'throughput_LABEL.json.', flag_values=values)


def parse_args(argv: Sequence[str]) -> cli.Args:
  """Parses and checks the command line."""
  args = cli.parse(_define_flags, argv, 'bench.throughput')
  args.configs = cli.known_names('--configs', args.configs,
                                 list(throughput_configs.CONFIG_FILES))
  args.variants = cli.known_names('--variants', args.variants,
                                  list(VARIANTS))
  args.record_name = os.path.splitext(os.path.basename(args.summary))[0]
  cli.require(
      re.fullmatch(rf'{throughput_report.RECORD_PREFIX}(_\w+)?',
                   args.record_name) is not None and
      args.summary.endswith('.json'),
      f'--summary must be a file named {throughput_report.RECORD_PREFIX}.json '
      f'or {throughput_report.RECORD_PREFIX}_LABEL.json, got {args.summary!r}')
  return args


def main(argv: Sequence[str]) -> None:
  args = parse_args(argv)
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
  results = _run_in_fresh_processes(args.configs, args.variants, args.quick)
  command = shlex.join(['python', '-m', 'bench.throughput', *argv])
  heading = throughput_report.heading(args.record_name)
  record = throughput_report.record(report.provenance(command), heading,
                                    tf.__version__, results)
  table = report.write_record_section(args.output, heading, args.summary,
                                      record)
  print(table)
  print(f'throughput: wrote {args.output} ({heading}) and {args.summary}',
        flush=True)


if __name__ == '__main__':
  cli.run(main)
