"""Every shipped gin configuration parses and wires a network and an agent."""
import pathlib

import gin
import pytest

import ibc_agents.train.train_eval  # registers train_eval

CONFIG_DIR = pathlib.Path(__file__).resolve().parents[2] / 'gin_configs'
CONFIGS = sorted(str(path.relative_to(CONFIG_DIR.parent))
                 for path in CONFIG_DIR.glob('*/*.gin')
                 if path.name != 'base.gin')


def test_configs_are_found():
  assert 'gin_configs/particle/ibc_dfo.gin' in CONFIGS


@pytest.mark.parametrize('config', CONFIGS)
def test_config_parses_and_binds_an_agent_and_a_network(config, monkeypatch,
                                                        tmp_path):
  monkeypatch.chdir(tmp_path)  # includes resolve through the package
  gin.clear_config()
  try:
    gin.parse_config_files_and_bindings([config], [])
    agent = gin.query_parameter('train_eval.agent_class').configurable.wrapped
    network = gin.query_parameter(
        'train_eval.network_class').configurable.wrapped
    assert agent.__name__.endswith('Agent')
    assert network.__module__.startswith('ibc_agents.networks')
    assert gin.query_parameter('train_eval.num_iterations') > 0
  finally:
    gin.clear_config()
