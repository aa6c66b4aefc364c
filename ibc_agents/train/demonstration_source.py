"""Where a training's demonstrations come from: memory, a Reverb server here,
a server in a child process, or a standalone server elsewhere."""
from typing import Union

from absl import logging
from tf_agents.trajectories import trajectory

from data_tools import memory_replay
from data_tools import network_isolation
from data_tools import replay
from data_tools import server_process
from ibc_agents.train import settings as settings_lib

Demonstrations = Union[replay.ServedDemonstrations,
                       memory_replay.InMemoryDemonstrations]


def open_demonstrations(settings: settings_lib.TrainEvalSettings,
                        data_spec: trajectory.Trajectory) -> Demonstrations:
  """The demonstrations: a standalone server's, or `settings.dataset`'s.

  The dataset is sampled in this process's memory, or served by a Reverb
  server: in this process when it is already off the network (loopback
  only), else in a child process that keeps the server off the network
  (`server_process.ServerProcess`). The result is a context manager.
  """
  dataset, task = settings.dataset, settings.task
  history_length = settings.history_length
  if settings.replay_server is None:
    if settings.sample_in_memory:
      served = memory_replay.InMemoryDemonstrations.from_dataset(
          dataset, task, data_spec, history_length)
      where = 'sampled in memory'
    elif network_isolation.only_loopback():
      served = replay.DemonstrationReplay.from_dataset(
          dataset, task, data_spec, history_length)
      where = 'served by a Reverb server in this process (loopback only)'
    else:
      served = server_process.ServerProcess(dataset, task, data_spec,
                                            history_length)
      where = f'served by a Reverb server at {served.address}'
    print(f'Loaded {served.info.num_episodes} episodes '
          f'({served.info.num_steps} steps) from {dataset}, {where}.',
          flush=True)
    return served
  address = settings.replay_server
  served = replay.RemoteDemonstrations(address, data_spec, history_length)
  if served.info.task != task:
    raise ValueError(
        f'The demonstration server at {address} serves task '
        f'{served.info.task!r}, this training is on {task!r}.')
  if dataset is not None:
    logging.warning('train_eval.dataset (%s) is not read: the demonstrations '
                    'come from the server at %s.', dataset, address)
  if settings.sample_in_memory:
    logging.warning('train_eval.sample_in_memory does not apply: the '
                    'demonstrations come from the server at %s.', address)
  print(f'Reading {served.info.num_episodes} episodes '
        f'({served.info.num_steps} steps of {served.info.dataset}) from the '
        f'demonstration server at {address}.', flush=True)
  return served
