"""End to end with Langevin: chain counter-examples, DFO-then-Langevin actions.

A file of its own so that test workers can run it beside the IBC-DFO run.
"""
import os

import gin

from ibc_agents.train import train_eval

GIN_FILE = 'gin_configs/particle/ibc_langevin.gin'
EVAL_EPISODES = 20
# The shipped Langevin configuration at a test's size: smaller batches,
# shorter counter-example chains, fewer steps; the policy as shipped.
TEST_SIZE_BINDINGS = [
    'train_eval.num_iterations = 600',
    'train_eval.eval_interval = 600',
    f'train_eval.eval_episodes = {EVAL_EPISODES}',
    'train_eval.log_interval = 300',
    'train_eval.batch_size = 128',
    'counter_examples/langevin_maximize.num_iterations = 10',
]


def test_short_langevin_training_beats_a_random_policy(easy_particle, tmp_path):
  gin.clear_config()
  gin.parse_config_files_and_bindings(
      [GIN_FILE], [*easy_particle.bindings, *TEST_SIZE_BINDINGS])
  try:
    results = train_eval.train_eval(root_dir=str(tmp_path),
                                    dataset=easy_particle.directory)
  finally:
    gin.clear_config()
  with open(os.path.join(tmp_path, 'operative_config.gin')) as f:
    operative = f.read()
  # The operative config lists only the parameters that were used.
  assert 'counter_examples/langevin_maximize.num_iterations = 10' in operative
  assert 'counter_examples/PolynomialSchedule.initial = 0.1' in operative
  assert 'dfo_then_langevin' in operative
  random_rate = easy_particle.random_policy_success_rate(EVAL_EPISODES)
  assert results['success_rate'] >= random_rate + 0.3, (results, random_rate)
