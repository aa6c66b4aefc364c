"""setup.py states compatible ranges; constraints.txt, the tested lock, fits them."""
import ast
import pathlib

from packaging import requirements
from packaging import utils

_ROOT = pathlib.Path(__file__).resolve().parents[1]


def _setup_requirements() -> list[requirements.Requirement]:
  """install_requires and every extra, read from setup.py's source."""
  call = next(node for node in ast.walk(ast.parse(
      (_ROOT / 'setup.py').read_text())) if isinstance(node, ast.Call)
              and getattr(node.func, 'attr', '') == 'setup')
  keywords = {k.arg: ast.literal_eval(k.value) for k in call.keywords
              if k.arg in ('install_requires', 'extras_require')}
  texts = keywords['install_requires'] + [
      text for extra in keywords['extras_require'].values() for text in extra]
  return [requirements.Requirement(text) for text in texts]


def _pins() -> dict[str, str]:
  pins = {}
  for line in (_ROOT / 'constraints.txt').read_text().splitlines():
    if '==' in line and not line.startswith('#'):
      name, version = line.split('==')
      pins[utils.canonicalize_name(name)] = version.strip()
  return pins


def test_setup_states_ranges_not_exact_pins():
  for requirement in _setup_requirements():
    assert not any(spec.operator == '==' for spec in requirement.specifier), (
        f'{requirement} pins one version: a library states a range')


def test_every_range_admits_the_version_the_lock_tests():
  pins = _pins()
  for requirement in _setup_requirements():
    pinned = pins[utils.canonicalize_name(requirement.name)]
    assert requirement.specifier.contains(pinned), (requirement, pinned)
