"""Fixtures shared by the test suite."""
import os
import pathlib

import pytest

_REPO = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(scope='session')
def anchor_dir() -> pathlib.Path:
  """Real demonstrations in the reference format (../shared beside the checkout)."""
  path = pathlib.Path(os.environ.get(
      'IBC_ANCHOR_SAMPLES', _REPO.parent / 'shared' / 'data' / 'anchor_samples'))
  if not (path / 'door-human-v0').is_dir():
    raise FileNotFoundError(
        f'Anchor samples not found at {path}; set IBC_ANCHOR_SAMPLES.')
  return path
