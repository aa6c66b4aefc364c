"""The configurations bench.throughput measures, read from their gin files.

A configuration is a shipped gin file: its task gives the observation and
action shapes, its bindings the network, batch, counter-examples, chains
and action samples. Nothing is copied by hand, so the benchmark measures
what the gin files train.
"""
import dataclasses
import functools
from typing import Any, Callable, Dict, Mapping, Sequence, Tuple

import gin
import tensorflow as tf
from tf_agents.specs import tensor_spec

import environments


@dataclasses.dataclass(frozen=True)
class Config:
  """A benchmarked configuration: shapes, classes and the reference figures.

  `depth` counts residual blocks of `layers.ResNetPreActivationDense`, two
  dense layers each: the reference implementation's depth 16 is our depth 8.
  """
  name: str
  description: str
  gin_file: str
  observation_spec: Mapping[str, tf.TensorSpec]  # one step, no history
  action_size: int
  history_length: int
  batch_size: int
  network_class: Callable[..., Any]
  agent_class: Callable[..., Any]
  width: int
  depth: int
  num_counter_examples: int = 0  # 0: an explicit network
  num_refined: int = 0  # counter-examples refined by Langevin chains
  langevin_iterations: int = 0  # steps of the counter-example chains
  gradient_penalty: bool = False
  num_action_samples: int = 0
  dfo_iterations: int = 3
  policy_langevin_iterations: int = 0  # 0: the policy acts by DFO alone
  encoder_filters: Tuple[int, ...] = ()  # a pixel network's trunk
  encoder_first_stride: int = 1
  reference: str = ''  # the original implementation's figures, for the report
  max_episodes: int = 100  # synthetic episodes served (images cost memory)

  @property
  def act_samplers(self) -> Tuple[str, ...]:
    """The policy samplers timed: none for an explicit network."""
    if not self.num_counter_examples:
      return ()
    return ('dfo', 'langevin') if self.policy_langevin_iterations else ('dfo',)

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


def _query(name: str, default: Any) -> Any:
  try:
    return gin.query_parameter(name)
  except ValueError:  # not bound
    return default


def from_gin_file(name: str, gin_file: str, description: str,
                  reference: str = '', max_episodes: int = 100,
                  bindings: Sequence[str] = ()) -> Config:
  """The configuration `gin_file` trains with `bindings`, read from its
  bindings and task."""
  gin.clear_config()
  try:
    gin.parse_config_files_and_bindings([gin_file], bindings)
    network_class = gin.query_parameter(
        'train_eval.network_class').configurable.wrapper
    agent_class = gin.query_parameter(
        'train_eval.agent_class').configurable.wrapper
    network, agent = network_class.__name__, agent_class.__name__
    env = environments.make(gin.query_parameter('train_eval.task'))
    try:
      observation_spec = tensor_spec.from_spec(env.observation_spec())
      action_size = int(env.action_spec().shape[0])
    finally:
      env.close()
    num_counter_examples = _query(f'{agent}.num_counter_examples', 0)
    refines = _query(f'{agent}.counter_example_sampler', None) is not None
    return Config(
        name=name, description=description, gin_file=gin_file,
        observation_spec=observation_spec, action_size=action_size,
        history_length=gin.query_parameter('train_eval.history_length'),
        batch_size=gin.query_parameter('train_eval.batch_size'),
        network_class=network_class, agent_class=agent_class,
        width=gin.query_parameter(f'{network}.width'),
        depth=gin.query_parameter(f'{network}.depth'),
        num_counter_examples=num_counter_examples,
        num_refined=(round(_query(f'{agent}.fraction_refined', 1.0) *
                           num_counter_examples) if refines else 0),
        langevin_iterations=(_query(
            'counter_examples/langevin_maximize.num_iterations', 100)
                             if refines else 0),
        gradient_penalty=_query(f'{agent}.gradient_penalty', None) is not None,
        num_action_samples=(_query('IbcPolicy.num_action_samples', 1024)
                            if num_counter_examples else 0),
        dfo_iterations=_query('dfo_maximize.num_iterations', 3),
        policy_langevin_iterations=_query('langevin_maximize.num_iterations',
                                          0),
        encoder_filters=tuple(_query('ConvMaxPoolTrunk.filters', ())),
        encoder_first_stride=_query('ConvMaxPoolTrunk.first_stride', 1),
        reference=reference, max_episodes=max_episodes)
  finally:
    gin.clear_config()


# name: (gin file, description, the original implementation's figures,
# synthetic episodes served).
CONFIG_FILES: Dict[str, Tuple[str, str, str, int]] = {
    'particle_dfo': ('gin_configs/particle/ibc_dfo.gin', 'particle IBC-DFO',
                     '', 100),
    'particle_langevin': (
        'gin_configs/particle/ibc_langevin_reference.gin',
        "the reference's 2D particle IBC-Langevin: 100 Langevin steps, "
        'gradient penalty, 256 x 2 dense layers', '1.1 steps/s', 100),
    'particle_langevin_paper': (
        'gin_configs/particle/ibc_langevin_paper.gin',
        "the paper's 4D particle IBC-Langevin (Appendix D.3): 128 x 16 "
        'spectrally normalised dense layers, batch 128, all 64 '
        'counter-examples from 50 Langevin steps, gradient penalty', '', 100),
    'pushing_dfo': (
        'gin_configs/pushing_states/ibc_dfo_reference.gin',
        "the reference's pushing-states IBC-DFO: 128 x 16 dense layers; its "
        '3 DFO iterations score the samples 3 times and perturb them twice, '
        'as our 2 do', '1.09-1.15 steps/s; DFO action 117 ms', 100),
    'pushing_mse': (
        'gin_configs/pushing_states/mse.gin',
        "the reference's pushing-states MSE: 128 x 16 dense layers",
        '5.9 steps/s; input pipeline 8.5 batches/s', 100),
    'pushing_pixels_dfo': (
        'gin_configs/pushing_pixels/ibc_dfo.gin',
        'pixels: 120 x 90 RGB, conv-maxpool encoder once per observation '
        '(late fusion), 256 x 4 dense head per action', '', 20),
}


@functools.lru_cache(maxsize=None)
def get(name: str) -> Config:
  """The configuration called `name` (a key of `CONFIG_FILES`)."""
  gin_file, description, reference, max_episodes = CONFIG_FILES[name]
  return from_gin_file(name, gin_file, description, reference, max_episodes)


@dataclasses.dataclass(frozen=True)
class Variant:
  """How the network computes, whether XLA compiles the loss, and whether
  the windows are sampled in memory (`train_eval.sample_in_memory`) rather
  than from the embedded Reverb server."""
  name: str
  compute_dtype: str
  jit_compile: bool
  sample_in_memory: bool = False


VARIANTS = {variant.name: variant for variant in (
    Variant('float32', 'float32', False),
    Variant('bfloat16', 'bfloat16', False),
    Variant('float32+xla', 'float32', True),
    Variant('bfloat16+xla', 'bfloat16', True),
    Variant('float32+memory', 'float32', False, sample_in_memory=True),
    Variant('bfloat16+memory', 'bfloat16', False, sample_in_memory=True),
)}
DEFAULT_VARIANTS = ('float32', 'bfloat16', 'float32+xla')
