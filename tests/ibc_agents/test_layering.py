"""The algorithm package stands apart from tasks, data tools and wiring."""
import ast
import pathlib
import pkgutil
import subprocess
import sys
import textwrap

import ibc_agents

# The training wiring and its command lines, which may import anything.
_WIRING = ('ibc_agents.train', 'ibc_agents.evaluate')


def _algorithm_modules() -> list[str]:
  return [module.name for module in pkgutil.walk_packages(
      ibc_agents.__path__, prefix='ibc_agents.')
          if not module.name.startswith(_WIRING)]


def test_algorithm_modules_import_no_tasks_data_tools_or_pybullet():
  modules = _algorithm_modules()
  assert 'ibc_agents.ibc_agent' in modules
  assert 'ibc_agents.networks.pixel_ebm' in modules
  script = textwrap.dedent(f'''
      import importlib, sys
      for name in {modules!r}:
        importlib.import_module(name)
      import ibc_agents
      for name in ibc_agents.__all__:
        getattr(ibc_agents, name)
      print(sorted(name for name in sys.modules
                   if name.split('.')[0] in ('environments', 'data_tools',
                                              'pybullet')
                   or name.startswith('ibc_agents.train')))
  ''')
  done = subprocess.run([sys.executable, '-c', script], capture_output=True,
                        text=True, check=True)
  assert done.stdout.strip() == '[]'


def test_importing_the_package_loads_no_tensorflow_until_a_class_is_used():
  script = textwrap.dedent('''
      import sys
      import ibc_agents
      before = 'tensorflow' in sys.modules
      agent_class = ibc_agents.ImplicitBCAgent
      print(before, 'tensorflow' in sys.modules, agent_class.__name__)
  ''')
  done = subprocess.run([sys.executable, '-c', script], capture_output=True,
                        text=True, check=True)
  assert done.stdout.split() == ['False', 'True', 'ImplicitBCAgent']


def _imported_modules(path: pathlib.Path) -> set[str]:
  """Every module an `import` names in the file, type-only imports included."""
  names = set()
  for node in ast.walk(ast.parse(path.read_text())):
    if isinstance(node, ast.Import):
      names.update(alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
      names.add(node.module)
  return names


_PACKAGE = pathlib.Path(ibc_agents.__file__).parent


def test_networks_import_nothing_from_the_algorithm_package_even_for_types():
  """A network is a plain TF-Agents Network: only other networks."""
  for path in sorted((_PACKAGE / 'networks').glob('*.py')):
    outside = {name for name in _imported_modules(path)
               if name.split('.')[0] == 'ibc_agents'
               and not name.startswith('ibc_agents.networks')}
    assert not outside, f'{path.name} imports {sorted(outside)}'


def test_algorithm_sources_name_no_task_or_data_tool_even_for_types():
  for path in sorted(_PACKAGE.rglob('*.py')):
    module = '.'.join(path.relative_to(_PACKAGE.parent).with_suffix('').parts)
    if module.startswith(_WIRING):
      continue
    forbidden = {name for name in _imported_modules(path)
                 if name.split('.')[0] in ('environments', 'data_tools',
                                           'pybullet')
                 or name.startswith('ibc_agents.train')}
    assert not forbidden, f'{module} imports {sorted(forbidden)}'
