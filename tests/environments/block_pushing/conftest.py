"""Demonstrations shared by the block-pushing collection and training tests."""
from typing import NamedTuple

import pytest

from data_tools import collect


class Demos(NamedTuple):
  directory: str
  num_episodes: int


@pytest.fixture(scope='session')
def push_demos(tmp_path_factory) -> Demos:
  """PUSH oracle demonstrations, collected once by two workers."""
  demos = Demos(str(tmp_path_factory.mktemp('push_demos')), num_episodes=100)
  collect.collect('PUSH', num_episodes=demos.num_episodes,
                  output_dir=demos.directory, num_workers=2, seed=5)
  return demos
