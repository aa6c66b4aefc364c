"""Particle demonstrations for the end-to-end training tests."""
import dataclasses

import gin
import pytest
from tf_agents.policies import random_py_policy

from data_tools import collect
from ibc_agents.train import evaluation
from ibc_agents.train import train_eval


@dataclasses.dataclass(frozen=True)
class EasyParticle:
  """Demonstrations of an easier PARTICLE variant, and the bindings for it.

  Wider goals; the oracle turns to the second goal at half the goal
  tolerance, so that a clone that aims a little off the first goal still
  reaches it; and episodes end once the task is complete, so a clone need not
  hold still at the second goal for the rest of the 50 steps.
  """
  directory: str
  bindings: tuple[str, ...] = ('import environments.particle.oracle',
                               'ParticleEnv.goal_tolerance = 0.08',
                               'ParticleEnv.end_on_success = True',
                               'ParticleOracle.goal_threshold = 0.04')

  def random_policy_success_rate(self, num_episodes: int) -> float:
    """Success of uniform random actions on the evaluation episodes."""
    gin.clear_config()
    gin.parse_config(['import environments.particle.particle_env',
                      *self.bindings])
    try:
      env = train_eval.make_env('PARTICLE', history_length=2)
      random_policy = random_py_policy.RandomPyPolicy(
          env.time_step_spec(), env.action_spec(), outer_dims=(num_episodes,))
      return evaluation.evaluate(
          random_policy, lambda seed: train_eval.make_env('PARTICLE', 2, seed),
          num_episodes=num_episodes, seed=1_000_000).success_rate
    finally:
      gin.clear_config()


@pytest.fixture(scope='module')
def easy_particle(tmp_path_factory) -> EasyParticle:
  """300 oracle episodes of the task with wider goals."""
  demos = EasyParticle(str(tmp_path_factory.mktemp('easy_particle')))
  collect.collect('PARTICLE', num_episodes=300, output_dir=demos.directory,
                  num_workers=2, seed=0, gin_bindings=[
                      'import environments.particle.particle_env',
                      *demos.bindings])
  return demos
