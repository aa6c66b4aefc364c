"""Matmul FLOPs of a train step and of an action, counted from the shapes.

The model behind bench.throughput's GFLOP/s and roofline share: dense
layers' matrix products and a pixel encoder's convolutions; elementwise
work is not counted. A backward pass costs twice its forward pass.
"""
import dataclasses

from bench import throughput_configs
from environments.block_pushing import pixel_envs

Config = throughput_configs.Config


@dataclasses.dataclass(frozen=True)
class NetworkFlops:
  """Forward FLOPs of a network's matrix products."""
  per_observation: float  # once per observation: an encoder, an explicit net
  per_action: float  # once per scored (observation, action) pair


def dense_resnet_flops(input_size: int, width: int, depth: int,
                       output_size: int) -> float:
  """Forward FLOPs per row of `ResNetPreActivationDense` plus a dense head."""
  return 2.0 * (input_size * width + 2 * depth * width * width +
                width * output_size)


def network_flops(config: Config) -> NetworkFlops:
  """The pixel or the dense model, as the configuration's network is."""
  if config.encoder_filters:
    return pixel_network_flops(config)
  return dense_network_flops(config)


def dense_network_flops(config: Config) -> NetworkFlops:
  """MLPEBM scores each (tiled observation, action); MLPMSE maps observations."""
  if config.num_counter_examples:
    return NetworkFlops(0.0, dense_resnet_flops(
        config.observation_size + config.action_size, config.width,
        config.depth, 1))
  return NetworkFlops(dense_resnet_flops(
      config.observation_size, config.width, config.depth,
      config.action_size), 0.0)


def pixel_network_flops(config: Config) -> NetworkFlops:
  """PixelEBM: a ConvMaxPoolTrunk per observation, a dense head per action.

  The trunk sees the history's frames stacked along the channels; its 3x3
  'same' convolutions dominate; pooling and the spatial softmax are not
  counted. The head scores [2 x last filters (keypoints), low-dimensional
  leaves, action].
  """
  image = config.observation_spec[pixel_envs.IMAGE_KEY]
  height, width, channels = image.shape.as_list()
  channels *= config.history_length
  encoder = 0.0
  for stage, count in enumerate(config.encoder_filters):
    step = config.encoder_first_stride if stage == 0 else 1
    height, width = -(-height // step), -(-width // step)  # 'same' padding
    encoder += 2.0 * height * width * count * 9 * channels
    height, width, channels = height // 2, width // 2, count  # 2x2 pooling
  embedding = 2 * config.encoder_filters[-1] + config.observation_size
  return NetworkFlops(encoder, dense_resnet_flops(
      embedding + config.action_size, config.width, config.depth, 1))


def train_step_flops(config: Config) -> float:
  """Matmul FLOPs of one train step.

  Langevin chains take a forward pass and an action gradient per step, plus
  a final scoring; a gradient penalty's double backward makes the loss cost
  6 forward passes instead of 3.
  """
  network = network_flops(config)
  batch, num_negatives = config.batch_size, config.num_counter_examples
  flops = 3 * batch * network.per_observation
  pairs = batch * (num_negatives + 1) * network.per_action
  chains = (batch * config.num_refined * (2 * config.langevin_iterations + 1)
            * network.per_action)
  return flops + chains + (6 if config.gradient_penalty else 3) * pairs


def action_flops(config: Config, sampler: str) -> float:
  """Matmul FLOPs of one greedy action for one observation."""
  network = network_flops(config)
  evaluations = {'dfo': config.dfo_iterations + 1,
                 'langevin': 2 * config.policy_langevin_iterations + 1,
                 }.get(sampler, 0)
  return (network.per_observation +
          config.num_action_samples * evaluations * network.per_action)
