"""Tests for the task registry."""
import gin
import pytest

import environments
from environments.particle import oracle
from environments.particle import particle_env


def test_make_particle_passes_keyword_arguments():
  env = environments.make('PARTICLE', n_dim=3, seed=0)
  assert isinstance(env, particle_env.ParticleEnv)
  assert env.reset().observation['pos_agent'].shape == (3,)


def test_make_particle_honours_gin_bindings():
  gin.parse_config('ParticleEnv.n_dim = 4')
  try:
    env = environments.make('PARTICLE', seed=0)
  finally:
    gin.clear_config()
  assert env.action_spec().shape == (4,)


def test_unknown_task_raises_listing_known_tasks():
  with pytest.raises(ValueError, match=r'NOPE.*known tasks:.*PARTICLE'):
    environments.make('NOPE')
  assert 'PARTICLE' in environments.known_tasks()


def test_make_oracle_builds_particle_oracle():
  env = environments.make('PARTICLE', seed=0)
  policy = environments.make_oracle('PARTICLE', env)
  assert isinstance(policy, oracle.ParticleOracle)
  assert policy.action_spec == env.action_spec()


def test_make_oracle_for_task_without_oracle_raises(monkeypatch):
  monkeypatch.setattr(environments, '_ENV_FACTORIES', {})
  monkeypatch.setattr(environments, '_ORACLE_FACTORIES', {})
  environments.register('TOY', lambda **kwargs: kwargs)
  with pytest.raises(ValueError, match=r'No oracle for task .TOY.'):
    environments.make_oracle('TOY', None)


def test_register_adds_task_and_rejects_duplicates(monkeypatch):
  monkeypatch.setattr(environments, '_ENV_FACTORIES', {})
  monkeypatch.setattr(environments, '_ORACLE_FACTORIES', {})
  environments.register('TOY', lambda **kwargs: kwargs, lambda env: 'oracle')
  assert environments.make('TOY', size=3) == {'size': 3}
  assert environments.make_oracle('TOY', None) == 'oracle'
  with pytest.raises(ValueError, match='already registered'):
    environments.register('TOY', dict)
