"""The FLOP model of bench.throughput, on the configurations its gin files give."""
import tensorflow as tf

from bench import flops
from bench import throughput_configs


def test_pushing_dfo_step_counts_the_reference_network_and_batch():
  config = throughput_configs.get('pushing_dfo')
  rows = 512 * 257
  per_row = 2 * (22 * 128 + 16 * 128 * 128 + 128)  # projection, 16, head
  assert config.matmul_rows == rows
  assert flops.train_step_flops(config) == 3 * rows * per_row
  # About the 200 GFLOP per step.
  assert 200e9 < flops.train_step_flops(config) < 215e9
  # The reference's 3 DFO iterations: 3 scorings of the 16384 samples.
  assert flops.action_flops(config, 'dfo') == 16384 * 3 * per_row


def test_langevin_step_counts_chains_and_the_double_backward():
  config = throughput_configs.get('particle_langevin')
  per_row = 2 * (18 * 256 + 2 * 256 * 256 + 256)
  chains = 512 * 8 * (2 * 100 + 1) * per_row
  assert flops.train_step_flops(config) == chains + 6 * 512 * 9 * per_row
  assert flops.action_flops(config, 'langevin') == 512 * 201 * per_row


def test_explicit_network_is_counted_once_per_observation():
  config = throughput_configs.get('pushing_mse')
  per_observation = 2 * (20 * 128 + 16 * 128 * 128 + 128 * 2)
  assert flops.train_step_flops(config) == 3 * 512 * per_observation
  assert flops.action_flops(config, 'regression') == per_observation


def test_pixel_step_counts_the_encoder_per_observation_and_head_per_action():
  config = throughput_configs.get('pushing_pixels_dfo')
  assert config.encoder_filters == (16, 32, 64)
  network = flops.pixel_network_flops(config)
  step = flops.train_step_flops(config)
  # Two stacked RGB frames, 90 x 120: 45 x 60 after the stride, then pooled.
  encoder = 2 * 9 * (45 * 60 * 16 * 6 + 22 * 30 * 32 * 16 + 11 * 15 * 64 * 32)
  head = 2 * ((2 * 64 + 2 * 2 + 2) * 256 + 4 * 256 * 256 + 256)
  assert network == flops.NetworkFlops(encoder, head)
  assert step == 3 * 64 * encoder + 3 * 64 * 65 * head


def test_configurations_are_read_from_their_gin_files():
  config = throughput_configs.get('pushing_dfo')
  assert config.gin_file == 'gin_configs/pushing_states/ibc_dfo_reference.gin'
  assert (config.batch_size, config.width, config.depth) == (512, 128, 8)
  assert (config.num_counter_examples, config.num_action_samples) == (256,
                                                                      16384)
  assert config.observation_spec['block_translation'] == tf.TensorSpec(
      (2,), tf.float32, name='block_translation')
  langevin = throughput_configs.get('particle_langevin')
  assert (langevin.num_refined, langevin.langevin_iterations,
          langevin.policy_langevin_iterations) == (8, 100, 100)
  assert langevin.gradient_penalty
  assert langevin.act_samplers == ('dfo', 'langevin')
  assert throughput_configs.get('pushing_mse').act_samplers == ()


def test_partly_refined_counter_examples_count_only_their_chains():
  particle = throughput_configs.from_gin_file(
      'particle_langevin_cpu', 'gin_configs/particle/ibc_langevin.gin', '')
  assert (particle.num_counter_examples, particle.num_refined) == (64, 8)
  assert not particle.gradient_penalty
  per_row = flops.dense_network_flops(particle).per_action
  chains = 256 * 8 * (2 * 20 + 1) * per_row
  assert flops.train_step_flops(particle) == chains + 3 * 256 * 65 * per_row
