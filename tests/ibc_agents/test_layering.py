"""The algorithm package stands apart from tasks, data tools and wiring."""
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
