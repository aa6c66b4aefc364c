"""Implicit behavioral cloning for TF-Agents: agents, policies and networks.

    from ibc_agents import ImplicitBCAgent, MLPEBM, IbcPolicy

The public classes load on first use, so `import ibc_agents` stays cheap and
the training command line can set up its process before TensorFlow starts.
This package (agents, policies, samplers, losses, networks, normalization)
imports neither the tasks (`environments`) nor the data tools
(`data_tools`); the training wiring lives in `ibc_agents.train`.
"""
import importlib
from typing import Any

_EXPORTS = {
    'BCAgentBase': 'ibc_agents.bc_common',
    'ImplicitBCAgent': 'ibc_agents.ibc_agent',
    'AutoregressiveImplicitBCAgent': 'ibc_agents.ibc_agent',
    'IbcPolicy': 'ibc_agents.ibc_policy',
    'MseBCAgent': 'ibc_agents.mse_agent',
    'MsePolicy': 'ibc_agents.mse_agent',
    'MdnBCAgent': 'ibc_agents.mdn_agent',
    'MdnPolicy': 'ibc_agents.mdn_agent',
    'ObservationNormalizer': 'ibc_agents.normalization',
    'ActionNormalizer': 'ibc_agents.normalization',
    'MLPEBM': 'ibc_agents.networks.mlp_ebm',
    'ARMLPEBM': 'ibc_agents.networks.ar_mlp_ebm',
    'MLPMSE': 'ibc_agents.networks.mlp_mse',
    'MLPMDN': 'ibc_agents.networks.mlp_mdn',
    'PixelEBM': 'ibc_agents.networks.pixel_ebm',
    'PixelMSE': 'ibc_agents.networks.pixel_mse',
    'PixelMDN': 'ibc_agents.networks.pixel_mdn',
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
  if name not in _EXPORTS:
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
  value = getattr(importlib.import_module(_EXPORTS[name]), name)
  globals()[name] = value
  return value


def __dir__() -> list[str]:
  return sorted(list(globals()) + __all__)
