"""tf.distribute strategies for training, and each process's role in them.

'multi_worker' reads its cluster from the TF_CONFIG environment variable;
a malformed one is refused naming what is wrong, and a worker that never
starts is reported, by address, while the others wait for it
(`wait_for_peers`), instead of a silent hang in the first all-reduce.
"""
import functools
import json
import os
import socket
import time
from typing import Any, Dict, Tuple

import gin
import tensorflow as tf

from ibc_agents.train import STRATEGIES

_TF_CONFIG_EXAMPLE = ('{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                      '"task": {"type": "worker", "index": 0}}')


def make_strategy(name: str, tpu: str = '') -> tf.distribute.Strategy:
  """The `tf.distribute` strategy called `name` (one of `STRATEGIES`).

  'mirrored' replicates the training on every local GPU, or on every
  logical CPU device where there is no GPU. 'multi_worker' trains
  synchronously in the processes that the TF_CONFIG environment variable
  names (each on its local GPUs, or its CPU), once every one of them has
  started (`wait_for_peers` reports those it waits for, and gives up). 'tpu' trains on the TPU `tpu` (empty: the local one).

  Raises:
    ValueError: for an unknown name, 'multi_worker' without a valid
      TF_CONFIG, or 'tpu' where no TPU is found.
    TimeoutError: for 'multi_worker', naming the tasks that never started.
  """
  if name == 'default':
    return tf.distribute.get_strategy()
  if name == 'mirrored':
    return _mirrored_strategy(tuple(
        device.name for device in (tf.config.list_logical_devices('GPU') or
                                   tf.config.list_logical_devices('CPU'))))
  if name == 'multi_worker':
    cluster, task_type, task_index = cluster_of(os.environ.get('TF_CONFIG'))
    wait_for_peers(cluster, task_type, task_index)
    return tf.distribute.MultiWorkerMirroredStrategy()
  if name == 'tpu':
    try:
      resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
      tf.config.experimental_connect_to_cluster(resolver)
      tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, tf.errors.OpError) as e:
      raise ValueError(
          f"train_eval.strategy = 'tpu' found no TPU{' ' + tpu if tpu else ''}"
          f' ({type(e).__name__}: {e}).') from None
    return tf.distribute.TPUStrategy(resolver)
  raise ValueError(f'train_eval.strategy must be one of {STRATEGIES}, got '
                   f'{name!r}.')


def cluster_of(tf_config: Any) -> Tuple[Dict[str, list], str, int]:
  """(cluster, this task's type, its index) from TF_CONFIG's text.

  Raises:
    ValueError: naming TF_CONFIG and what is wrong with it.
  """
  def refuse(problem: str) -> ValueError:
    return ValueError(
        f"train_eval.strategy = 'multi_worker' needs the TF_CONFIG "
        f'environment variable to describe the cluster and this process\'s '
        f'task; {problem}. For example: {_TF_CONFIG_EXAMPLE} (README, '
        '"Scale out").')
  if not tf_config:
    raise refuse('it is not set')
  try:
    config = json.loads(tf_config)
  except ValueError as e:
    raise refuse(f'it is not JSON ({e}): {tf_config!r}') from None
  if not isinstance(config, dict):
    raise refuse(f'it is not a JSON object: {tf_config!r}')
  cluster, task = config.get('cluster'), config.get('task')
  if not isinstance(cluster, dict) or not cluster or not all(
      isinstance(addresses, list) and addresses
      for addresses in cluster.values()):
    raise refuse('its "cluster" must map task types to lists of '
                 f'"host:port" addresses, got {cluster!r}')
  if not isinstance(task, dict):
    raise refuse(f'it has no "task" (this process\'s type and index), got '
                 f'{task!r}')
  task_type, task_index = task.get('type'), task.get('index', 0)
  if task_type not in cluster:
    raise refuse(f'its task type {task_type!r} is not in the cluster '
                 f'({", ".join(sorted(cluster))})')
  if (isinstance(task_index, bool) or not isinstance(task_index, int)
      or not 0 <= task_index < len(cluster[task_type])):
    raise refuse(f'its task index {task_index!r} is not one of the '
                 f'{len(cluster[task_type])} {task_type} addresses')
  return cluster, task_type, task_index


def _answers(address: str) -> bool:
  host, port = address.rsplit(':', 1)
  try:
    with socket.create_connection((host.strip('[]'), int(port)), timeout=1):
      return True
  except OSError:
    return False


@gin.configurable
def wait_for_peers(cluster: Dict[str, list], task_type: str, task_index: int,
                   timeout_seconds: float = 600.0,
                   report_seconds: float = 15.0) -> None:
  """Waits until every task of the cluster has started, saying whom it awaits.

  The strategy's constructor would wait silently, and for good, inside
  TensorFlow. Instead each task first listens on its own port (where the
  strategy's server listens next) and waits until every other task's port
  answers. Every `report_seconds` the tasks still awaited are printed.

  Raises:
    ValueError: if this task's own port is taken.
    TimeoutError: naming the tasks (type, index and address) that have not
      started after `timeout_seconds`.
  """
  own = cluster[task_type][task_index]
  try:
    listener = socket.create_server(('', int(own.rsplit(':', 1)[1])))
  except OSError as e:
    raise ValueError(f'TF_CONFIG gives this {task_type} {task_index} the '
                     f'address {own}, whose port is taken ({e}).') from None
  peers = {f'{kind} {index} at {address}': address
           for kind, addresses in cluster.items()
           for index, address in enumerate(addresses)
           if (kind, index) != (task_type, task_index)}
  start = last_report = time.monotonic()
  with listener:
    while True:
      peers = {name: address for name, address in peers.items()
               if not _answers(address)}
      if not peers:
        return
      waited = time.monotonic() - start
      if waited >= timeout_seconds:
        raise TimeoutError(
            f'{task_type} {task_index} waited {waited:.0f} s for '
            f'{", ".join(sorted(peers))}, which never started (TF_CONFIG); '
            'start it, or fix its address (wait_for_peers.timeout_seconds '
            'sets how long to wait).')
      if time.monotonic() - last_report >= report_seconds:
        print(f'{task_type} {task_index} is waiting for '
              f'{", ".join(sorted(peers))} ({waited:.0f} s).', flush=True)
        last_report = time.monotonic()
      time.sleep(0.5)


@functools.lru_cache(maxsize=None)
def _mirrored_strategy(devices: Tuple[str, ...]) -> tf.distribute.Strategy:
  """The process's one MirroredStrategy over `devices`.

  Trainings run one after another in a process share it: a second strategy
  over the same devices reuses the first one's collective keys, and its
  all-reduces then fail on shape mismatches.
  """
  return tf.distribute.MirroredStrategy(list(devices))


def worker_role(distribution: tf.distribute.Strategy) -> Tuple[bool, int]:
  """(whether this process is the chief, its index among the workers).

  The chief is the 'chief' task, or worker 0 in a cluster without one; a
  process outside a cluster is the chief.
  """
  resolver = getattr(distribution, 'cluster_resolver', None)
  cluster = resolver.cluster_spec().as_dict() if resolver else {}
  if not cluster or resolver.task_type is None:
    return True, 0
  task_type, task_id = resolver.task_type, int(resolver.task_id or 0)
  index = task_id + (1 if task_type == 'worker' and 'chief' in cluster else 0)
  chief = task_type == 'chief' or (task_type == 'worker' and task_id == 0 and
                                   'chief' not in cluster)
  return chief, index


def replica_batch_size(batch_size: int, num_replicas: int) -> int:
  """Each replica's share of the global batch, which must divide evenly."""
  if batch_size % num_replicas:
    raise ValueError(
        f'train_eval.batch_size ({batch_size}) must be a multiple of the '
        f'number of replicas ({num_replicas}).')
  return batch_size // num_replicas
