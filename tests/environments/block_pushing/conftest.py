"""Demonstrations shared by the block-pushing collection and training tests."""
from typing import NamedTuple

import pytest

from data_tools import collect


class Demos(NamedTuple):
  directory: str
  num_episodes: int
  gin_bindings: tuple[str, ...] = ()  # what collection ran with


@pytest.fixture(scope='session')
def push_demos(tmp_path_factory) -> Demos:
  """PUSH oracle demonstrations, collected once by two workers."""
  demos = Demos(str(tmp_path_factory.mktemp('push_demos')), num_episodes=100)
  collect.collect('PUSH', num_episodes=demos.num_episodes,
                  output_dir=demos.directory, num_workers=2, seed=5)
  return demos


@pytest.fixture(scope='session')
def pixel_demos(tmp_path_factory) -> Demos:
  """Two PUSH_PIXELS oracle episodes with 32 x 24 pixel images."""
  demos = Demos(str(tmp_path_factory.mktemp('pixel_demos')), num_episodes=2,
                gin_bindings=('import environments.block_pushing.pixel_envs',
                              'PixelObservations.image_width = 32',
                              'PixelObservations.image_height = 24'))
  collect.collect('PUSH_PIXELS', num_episodes=demos.num_episodes,
                  output_dir=demos.directory, num_workers=1, seed=5,
                  gin_bindings=demos.gin_bindings)
  return demos
