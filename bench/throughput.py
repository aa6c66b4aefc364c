r"""Training and action-selection throughput against the machine's roofline.

    python -m bench.throughput [--quick] [--configs=pushing_dfo,pushing_mse]
        [--variants=float32,bfloat16,float32+xla] [--output=docs/benchmarks.md]
        [--json_dir=docs/throughput]

Each named configuration runs in a fresh process, on synthetic demonstrations
of the task's observation and action sizes (so no simulator is needed), for
every variant (compute precision, XLA on the train step). It measures:

- train steps/s through the agent's `train` as `tf_agents.train.Learner`
  compiles it, fed by a real embedded Reverb `DemonstrationReplay`: median,
  min and max over the timed steps after warm-up;
- the same step fed by one fixed in-memory batch, hence the fraction of the
  step spent waiting on data, and the replay's batches/s on its own;
- FLOPs per step counted from the shapes (see `train_step_flops`), the
  achieved GFLOP/s, and a roofline measured in the same process: the best
  GFLOP/s of a dense matmul of the configuration's row count, width and dtype;
- greedy action latency (one observation, p50 and p99) of each sampler through
  `PyTFEagerPolicy`, with its FLOPs;
- the process's peak resident memory.

Results go to one JSON file per configuration in --json_dir, and the
`## Throughput` section of --output is regenerated. --quick is a smoke run
(few steps, batch <= 16, <= 256 action samples) whose figures mean nothing.

A configuration is a `Config`: its shapes and classes, bound through gin
(a pixel configuration also parses its gin file for the encoder), and a
`network_flops` function counting its encoder (per observation) and its
head (per scored action).
"""
import argparse
import concurrent.futures
import dataclasses
import datetime
import json
import multiprocessing
import os
import resource
import shlex
import statistics
import sys
import tempfile
import time
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

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

from bench import report
from data_tools import replay
from environments.block_pushing import pixel_envs
from ibc_agents import bc_common
from ibc_agents import ibc_agent
from ibc_agents import ibc_policy
from ibc_agents import mse_agent
from ibc_agents import normalization
from ibc_agents import samplers
from ibc_agents.networks import mlp_ebm
from ibc_agents.networks import mlp_mse
from ibc_agents.networks import pixel_ebm

HEADING = '## Throughput'
# The dense matmul (131584 x 128 x 128) on the reference's machine.
REFERENCE_ROOFLINE = '330 GFLOP/s float32, 650 GFLOP/s bfloat16'
SAMPLERS = {'dfo': samplers.dfo_maximize, 'langevin': samplers.langevin_maximize}


@dataclasses.dataclass(frozen=True)
class NetworkFlops:
  """Forward FLOPs of a network's matrix products."""
  per_observation: float  # once per observation: an encoder, an explicit net
  per_action: float  # once per scored (observation, action) pair


@dataclasses.dataclass(frozen=True)
class Config:
  """A benchmarked configuration: shapes, classes and the reference figures.

  `depth` counts residual blocks of `layers.ResNetPreActivationDense`, two
  dense layers each: the reference implementation's depth 16 is our depth 8.
  """
  name: str
  description: str
  observation_spec: Mapping[str, tf.TensorSpec]  # one step, no history
  action_size: int
  history_length: int
  batch_size: int
  network_class: Callable[..., Any]
  agent_class: Callable[..., Any]
  width: int
  depth: int
  network_flops: Callable[['Config'], NetworkFlops]
  num_counter_examples: int = 0
  langevin_iterations: int = 0  # counter-example chains and Langevin acting
  num_action_samples: int = 0
  dfo_iterations: int = 3
  act_samplers: Tuple[str, ...] = ()  # keys of SAMPLERS; () for explicit
  reference: str = ''  # the original implementation's figures, for the report
  gin_file: str = ''  # parsed before the bindings, e.g. for an encoder
  max_episodes: int = 100  # synthetic episodes served (images cost memory)

  @property
  def observation_size(self) -> int:
    """Floats the network reads per observation (history included)."""
    return self.history_length * sum(
        spec.shape.num_elements() for spec in self.observation_spec.values()
        if spec.dtype.is_floating)

  @property
  def matmul_rows(self) -> int:
    """Rows of the train step's dense layers: B (N + 1) pairs or B observations."""
    return self.batch_size * (self.num_counter_examples + 1)


def dense_resnet_flops(input_size: int, width: int, depth: int,
                       output_size: int) -> float:
  """Forward FLOPs per row of `ResNetPreActivationDense` plus a dense head."""
  return 2.0 * (input_size * width + 2 * depth * width * width +
                width * output_size)


def dense_network_flops(config: Config) -> NetworkFlops:
  """MLPEBM scores each (tiled observation, action); MLPMSE maps observations."""
  if config.num_counter_examples:
    return NetworkFlops(0.0, dense_resnet_flops(
        config.observation_size + config.action_size, config.width,
        config.depth, 1))
  return NetworkFlops(dense_resnet_flops(
      config.observation_size, config.width, config.depth,
      config.action_size), 0.0)


def train_step_flops(config: Config) -> float:
  """Matmul FLOPs of one train step, counted from the shapes.

  A backward pass costs twice its forward pass (input and weight gradients).
  Langevin chains take a forward pass and an action gradient per step, plus
  a final scoring; the gradient penalty's double backward makes the loss
  cost 6 forward passes. Elementwise operations are not counted.
  """
  network = config.network_flops(config)
  batch, num_negatives = config.batch_size, config.num_counter_examples
  flops = 3 * batch * network.per_observation
  pairs = batch * (num_negatives + 1) * network.per_action
  if not config.langevin_iterations:
    return flops + 3 * pairs
  chains = (batch * num_negatives * (2 * config.langevin_iterations + 1) *
            network.per_action)
  return flops + chains + 6 * pairs


def action_flops(config: Config, sampler: str) -> float:
  """Matmul FLOPs of one greedy action for one observation."""
  network = config.network_flops(config)
  evaluations = {'dfo': config.dfo_iterations + 1,
                 'langevin': 2 * config.langevin_iterations + 1}.get(sampler, 0)
  return (network.per_observation +
          config.num_action_samples * evaluations * network.per_action)


def pixel_network_flops(config: Config) -> NetworkFlops:
  """PixelEBM: a ConvMaxPoolTrunk per observation, a dense head per action.

  Reads the trunk's filters and first stride from the bound gin config. The
  trunk sees the history's frames stacked along the channels; its 3x3
  'same' convolutions dominate; pooling and the spatial softmax are not
  counted. The head scores [2 x last filters (keypoints), low-dimensional
  leaves, action].
  """
  filters = gin.query_parameter('ConvMaxPoolTrunk.filters')
  stride = gin.query_parameter('ConvMaxPoolTrunk.first_stride')
  image = config.observation_spec[pixel_envs.IMAGE_KEY]
  height, width, channels = image.shape.as_list()
  channels *= config.history_length
  encoder = 0.0
  for stage, count in enumerate(filters):
    step = stride if stage == 0 else 1
    height, width = -(-height // step), -(-width // step)  # 'same' padding
    encoder += 2.0 * height * width * count * 9 * channels
    height, width, channels = height // 2, width // 2, count  # 2x2 pooling
  embedding = 2 * filters[-1] + config.observation_size
  return NetworkFlops(encoder, dense_resnet_flops(
      embedding + config.action_size, config.width, config.depth, 1))


def _floats(**sizes: int) -> Dict[str, tf.TensorSpec]:
  return {name: tf.TensorSpec((size,), tf.float32)
          for name, size in sizes.items()}


PARTICLE_2D = _floats(pos_agent=2, vel_agent=2, pos_first_goal=2,
                      pos_second_goal=2)
PUSHING_STATES = _floats(block_translation=2, block_orientation=1,
                         target_translation=2, target_orientation=1,
                         effector_translation=2, effector_target_translation=2)
PUSHING_PIXELS = {
    pixel_envs.IMAGE_KEY: tf.TensorSpec((90, 120, 3), tf.uint8),
    'effector_translation': tf.TensorSpec((2,), tf.float32)}
CONFIGS = {config.name: config for config in (
    Config('particle_dfo', 'gin_configs/particle/ibc_dfo.gin shapes',
           PARTICLE_2D, 2, 2, batch_size=256, network_class=mlp_ebm.MLPEBM,
           agent_class=ibc_agent.ImplicitBCAgent, width=128, depth=2,
           network_flops=dense_network_flops, num_counter_examples=64,
           num_action_samples=1024, act_samplers=('dfo',)),
    Config('particle_langevin',
           "the reference's 2D particle IBC-Langevin: 100 Langevin steps, "
           'gradient penalty, 256 x 2 dense layers',
           PARTICLE_2D, 2, 2, batch_size=512, network_class=mlp_ebm.MLPEBM,
           agent_class=ibc_agent.ImplicitBCAgent, width=256, depth=1,
           network_flops=dense_network_flops, num_counter_examples=8,
           langevin_iterations=100, num_action_samples=512,
           act_samplers=('dfo', 'langevin'), reference='1.1 steps/s'),
    Config('pushing_dfo',
           "the reference's pushing-states IBC-DFO: 128 x 16 dense layers; "
           'its 3 DFO iterations score the samples 3 times and perturb them '
           'twice, as our 2 do',
           PUSHING_STATES, 2, 2, batch_size=512, network_class=mlp_ebm.MLPEBM,
           agent_class=ibc_agent.ImplicitBCAgent, width=128, depth=8,
           network_flops=dense_network_flops, num_counter_examples=256,
           num_action_samples=16384, dfo_iterations=2, act_samplers=('dfo',),
           reference='1.09-1.15 steps/s; DFO action 117 ms'),
    Config('pushing_mse',
           "the reference's pushing-states MSE: 128 x 16 dense layers",
           PUSHING_STATES, 2, 2, batch_size=512, network_class=mlp_mse.MLPMSE,
           agent_class=mse_agent.MseBCAgent, width=128, depth=8,
           network_flops=dense_network_flops,
           reference='5.9 steps/s; input pipeline 8.5 batches/s'),
    Config('pushing_pixels_dfo',
           'gin_configs/pushing_pixels/ibc_dfo.gin shapes: 120 x 90 RGB, '
           'conv-maxpool encoder once per observation (late fusion), '
           '256 x 4 dense head per action',
           PUSHING_PIXELS, 2, 2, batch_size=64, network_class=pixel_ebm.PixelEBM,
           agent_class=ibc_agent.ImplicitBCAgent, width=256, depth=2,
           network_flops=pixel_network_flops, num_counter_examples=64,
           num_action_samples=1024, act_samplers=('dfo',),
           gin_file='gin_configs/pushing_pixels/ibc_dfo.gin', max_episodes=20),
)}


@dataclasses.dataclass(frozen=True)
class Variant:
  """How the network computes and whether XLA compiles the loss."""
  name: str
  compute_dtype: str
  jit_compile: bool


VARIANTS = {variant.name: variant for variant in (
    Variant('float32', 'float32', False),
    Variant('bfloat16', 'bfloat16', False),
    Variant('float32+xla', 'float32', True),
    Variant('bfloat16+xla', 'bfloat16', True),
)}
DEFAULT_VARIANTS = ('float32', 'bfloat16', 'float32+xla')


@dataclasses.dataclass(frozen=True)
class Budget:
  """How long each measurement runs."""
  warmup_steps: int = 3
  timed_steps: int = 20
  replay_batches: int = 50
  warmup_calls: int = 5
  timed_calls: int = 50
  matmul_repeats: int = 10
  num_episodes: int = 100
  episode_length: int = 100


QUICK_BUDGET = Budget(warmup_steps=1, timed_steps=2, replay_batches=3,
                      warmup_calls=1, timed_calls=3, matmul_repeats=2,
                      num_episodes=8, episode_length=20)


def quick_config(config: Config) -> Config:
  """The configuration with a small batch and few action samples."""
  return dataclasses.replace(
      config, batch_size=min(config.batch_size, 16),
      num_action_samples=min(config.num_action_samples, 256))


def gin_bindings(config: Config, variant: Variant) -> List[str]:
  """Bindings that configure the network, agent and samplers as `config`."""
  network = config.network_class.__name__
  bindings = [f'{network}.width = {config.width}',
              f'{network}.depth = {config.depth}',
              f'{network}.compute_dtype = {variant.compute_dtype!r}',
              f'BCAgentBase.jit_compile = {variant.jit_compile}',  # MSE
              f'ImplicitBCAgent.jit_compile = {variant.jit_compile}',
              f'dfo_maximize.num_iterations = {config.dfo_iterations}']
  if config.num_counter_examples:
    bindings.append('ImplicitBCAgent.num_counter_examples = '
                    f'{config.num_counter_examples}')
  if config.langevin_iterations:
    bindings += [
        'ImplicitBCAgent.counter_example_sampler = '
        '@counter_examples/langevin_maximize',
        'ImplicitBCAgent.gradient_penalty = @gradient_penalty',
        f'langevin_maximize.num_iterations = {config.langevin_iterations}']
  return bindings


def bind(config: Config, variant: Variant) -> None:
  """Replaces the gin config with `config`'s gin file and bindings."""
  gin.clear_config()
  gin.parse_config_files_and_bindings(
      [config.gin_file] if config.gin_file else [],
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


def _seconds(run: Callable[[], Any], warmup: int, repeats: int) -> List[float]:
  """Wall seconds of each of `repeats` calls of `run` after `warmup` calls."""
  for _ in range(warmup):
    run()
  seconds = []
  for _ in range(repeats):
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
              gflop=action_flops(config, name) / 1e9)


def _median_min_max(seconds: Sequence[float]) -> Dict[str, float]:
  """Steps/s of the median, slowest and fastest step."""
  return dict(median=1.0 / statistics.median(seconds),
              min=1.0 / max(seconds), max=1.0 / min(seconds))


def measure_variant(config: Config, variant: Variant,
                    served: replay.DemonstrationReplay,
                    budget: Budget) -> Dict[str, Any]:
  """Train steps/s with real and fixed data, roofline, action latency."""
  print(f'throughput: {config.name} {variant.name}', flush=True)
  bind(config, variant)
  agent = make_agent(config, served.data_spec)
  with tempfile.TemporaryDirectory() as root_dir:
    learner = tf_agents_learner.Learner(
        root_dir, agent.train_step_counter, agent,
        experience_dataset_fn=lambda: served.as_dataset(config.batch_size),
        checkpoint_interval=0, summary_interval=0, use_reverb_v2=True)
    real = _seconds(lambda: learner.run(iterations=1), budget.warmup_steps,
                    budget.timed_steps)
    batch = next(iter(served.as_dataset(config.batch_size)))
    observation = tf.nest.map_structure(lambda x: x[:1].numpy(),
                                        batch.data.observation)  # [1, T, ...]
    fixed_batches = iter(tf.data.Dataset.from_tensors(batch).repeat())
    fixed = _seconds(lambda: learner.run(iterations=1, iterator=fixed_batches),
                     budget.warmup_steps, budget.timed_steps)
  flops = train_step_flops(config)
  steps_per_sec = _median_min_max(real)
  roofline = matmul_gflops(config.matmul_rows, config.width,
                           tf.as_dtype(variant.compute_dtype),
                           budget.matmul_repeats)
  achieved = flops * steps_per_sec['median'] / 1e9
  result = dict(
      variant=variant.name, steps_per_sec=steps_per_sec,
      fixed_batch_steps_per_sec=_median_min_max(fixed),
      data_wait_fraction=max(
          0.0, 1.0 - statistics.median(fixed) / statistics.median(real)),
      gflop_per_step=flops / 1e9, achieved_gflops=achieved,
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
  config = quick_config(CONFIGS[name]) if quick else CONFIGS[name]
  spec = data_spec(config)
  load_start = os.getloadavg()[0]
  episodes = synthetic_episodes(
      spec, min(budget.num_episodes, config.max_episodes),
      budget.episode_length)
  with replay.DemonstrationReplay(episodes, spec,
                                  config.history_length) as served:
    replay_rate = replay_batches_per_second(
        served.as_dataset(config.batch_size), budget)
    variants = [measure_variant(config, VARIANTS[variant], served, budget)
                for variant in variant_names]
  return dict(
      config=name, description=config.description,
      batch_size=config.batch_size, width=config.width, depth=config.depth,
      num_counter_examples=config.num_counter_examples,
      langevin_iterations=config.langevin_iterations,
      num_action_samples=config.num_action_samples,
      matmul_rows=config.matmul_rows, reference=config.reference,
      replay_batches_per_sec=replay_rate,
      peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
      load_average=[load_start, os.getloadavg()[0]], quick=quick,
      variants=variants)


def format_section(command: str, results: Sequence[Dict[str, Any]]) -> str:
  """The Markdown section: provenance, training, action and memory tables."""
  loads = [load for result in results for load in result['load_average']]
  train_rows = [
      '| config | variant | train steps/s: median (min-max) | reference | '
      'GFLOP/step | GFLOP/s | matmul roofline GFLOP/s | % of roofline | '
      'waiting on data |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- |']
  act_rows = ['| config | variant | sampler | GFLOP/action | p50 ms | p99 ms |',
              '| --- | --- | --- | --- | --- | --- |']
  data_rows = ['| config | what | shapes | replay batches/s alone | '
               'peak RSS (GiB) |', '| --- | --- | --- | --- | --- |']
  for result in results:
    for variant in result['variants']:
      speed = variant['steps_per_sec']
      train_rows.append(
          f'| {result["config"]} | {variant["variant"]} '
          f'| {speed["median"]:.2f} ({speed["min"]:.2f}-{speed["max"]:.2f}) '
          f'| {result["reference"] or "-"} '
          f'| {variant["gflop_per_step"]:.3g} '
          f'| {variant["achieved_gflops"]:.0f} '
          f'| {variant["roofline_gflops"]:.0f} '
          f'| {100 * variant["roofline_fraction"]:.0f}% '
          f'| {100 * variant["data_wait_fraction"]:.0f}% |')
      for action in variant['actions']:
        act_rows.append(
            f'| {result["config"]} | {variant["variant"]} '
            f'| {action["sampler"]} | {action["gflop"]:.3g} '
            f'| {action["p50_ms"]:.1f} | {action["p99_ms"]:.1f} |')
    data_rows.append(
        f'| {result["config"]} | {result["description"]} '
        f'| batch {result["batch_size"]}, '
        f'{result["matmul_rows"]} rows, width {result["width"]}, '
        f'{2 * result["depth"] + 1} dense layers '
        f'| {result["replay_batches_per_sec"]:.1f} '
        f'| {result["peak_rss_mib"] / 1024:.2f} |')
  quick_note = (' **Quick smoke run: the figures mean nothing.**'
                if any(result['quick'] for result in results) else '')
  return '\n\n'.join([
      HEADING,
      f'`{command}`',
      f'Machine: {report.machine_description()}; TensorFlow {tf.__version__}. '
      f'Date: {datetime.date.today().isoformat()}. Load average (1 min) '
      f'during the run: {min(loads):.1f} to {max(loads):.1f}.{quick_note}',
      '\n'.join(train_rows),
      'Each configuration runs in its own process on synthetic demonstrations '
      'served by an embedded Reverb `DemonstrationReplay`; a step is one '
      '`Learner.run(iterations=1)`. GFLOP/step counts the dense layers\' '
      'matrix products and the pixel encoder\'s convolutions from the shapes '
      '(backward = 2x forward; Langevin: '
      'forward and action gradient per chain step; gradient penalty: 6x '
      'forward), not elementwise work. The roofline is the best GFLOP/s of a '
      '[rows, width] x [width, width] matmul in the variant\'s dtype, measured '
      'in the same process. "Waiting on data" is 1 - (step time on a fixed '
      'in-memory batch) / (step time on the replay). Reference: the original '
      'implementation on a 2-core AMD EPYC, TF 2.15.1, where the issue '
      f'measured a {REFERENCE_ROOFLINE} matmul roofline: compare the '
      'percentages of roofline when this machine\'s roofline differs.',
      '\n'.join(act_rows),
      'Greedy action for one observation through `PyTFEagerPolicy` '
      '(tf.function), after warm-up calls; XLA variants compile the train '
      'step only, so their policies are not timed again.',
      '\n'.join(data_rows),
  ]) + '\n'


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


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
  """Parses and checks the command line."""
  parser = argparse.ArgumentParser(
      prog='python -m bench.throughput',
      description='Train-step and action throughput of named configurations.')
  parser.add_argument('--configs', default=','.join(CONFIGS),
                      help=f'Comma-separated, of: {", ".join(CONFIGS)}.')
  parser.add_argument('--variants', default=','.join(DEFAULT_VARIANTS),
                      help=f'Comma-separated, of: {", ".join(VARIANTS)}.')
  parser.add_argument('--quick', action='store_true',
                      help='A few steps with small batches: a smoke run.')
  parser.add_argument('--output', default='docs/benchmarks.md',
                      help='Markdown file whose Throughput section is written.')
  parser.add_argument('--json_dir', default='docs/throughput',
                      help='Directory of the per-configuration JSON results.')
  args = parser.parse_args(argv)
  args.configs = args.configs.split(',')
  args.variants = args.variants.split(',')
  for values, known, flag in ((args.configs, CONFIGS, '--configs'),
                              (args.variants, VARIANTS, '--variants')):
    unknown = [value for value in values if value not in known]
    if unknown:
      parser.error(f'{flag}: unknown {unknown}; known: {", ".join(known)}')
  return args


def main(argv: Optional[Sequence[str]] = None) -> None:
  argv = sys.argv[1:] if argv is None else list(argv)
  args = parse_args(argv)
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
  results = _run_in_fresh_processes(args.configs, args.variants, args.quick)
  command = shlex.join(['python', '-m', 'bench.throughput'] + argv)
  os.makedirs(args.json_dir, exist_ok=True)
  for result in results:
    result.update(command=command, machine=report.machine_description(),
                  tensorflow=tf.__version__,
                  date=datetime.date.today().isoformat())
    with open(os.path.join(args.json_dir, f'{result["config"]}.json'),
              'w') as f:
      json.dump(result, f, indent=1)
  section = format_section(command, results)
  report.write_section(args.output, HEADING, section)
  print(section)
  print(f'throughput: wrote {args.output} ({HEADING}) and {args.json_dir}/',
        flush=True)


if __name__ == '__main__':
  main()
