"""What a training run does, declared once: gin's `train_eval.*` parameters.

`TrainEvalSettings` is the configurable gin files bind as `train_eval.<name>`;
`train_eval.train_eval` builds one (gin fills what the caller leaves out),
checks it once, and hands the frozen object to every part of the run.
"""
import dataclasses
from typing import Callable, Optional

import gin
import tensorflow as tf

from ibc_agents import checks
from ibc_agents import ibc_agent
from ibc_agents.networks import mlp_ebm

_POSITIVE_INTEGERS = ('history_length', 'batch_size', 'num_iterations',
                      'eval_interval', 'eval_episodes', 'eval_workers',
                      'checkpoint_interval', 'summary_interval', 'log_interval',
                      'validation_batches')
_NATURAL_NUMBERS = ('eval_seed', 'seed', 'validation_episodes',
                    'validation_seed', 'first_eval_step')


@gin.configurable('train_eval', module='ibc_agents.train.train_eval')
@dataclasses.dataclass(frozen=True)
class TrainEvalSettings:
  """A training run's data, task, model, budget, evaluation and placement.

  Attributes:
    dataset: demonstration shards: a dataset directory or a glob. Not read
      when `replay_server` is given.
    task: registered task name (see `environments.make`).
    history_length: observations stacked for the policy (train windows T).
    batch_size: demonstration windows per train step.
    num_iterations: total train steps.
    learning_rate: Adam's initial learning rate.
    learning_rate_decay: learning-rate factor reached at `num_iterations`
      (exponential decay; 1.0 keeps it constant).
    network_class: builds the network from (observation_spec, action_spec).
    agent_class: builds the agent from (time_step_spec, action_spec, network,
      optimizer, **normalizers).
    eval_interval: train steps between evaluations (and policy exports).
    first_eval_step: no evaluation before this step (the last step is always
      evaluated): a long run's evaluations can all fall late in it, where the
      mean of the last few says how steady the policy is, at the cost of
      fewer points on its learning curve.
    eval_episodes: episodes per evaluation.
    eval_seed: seed of the first evaluation environment.
    eval_workers: processes that step the evaluation environments (the
      policy acts in this one, so results do not depend on it).
    validation_episodes: if positive, every evaluation also runs this many
      episodes from `validation_seed`, and the policy with the best
      validation success so far (ties: the higher validation return, then
      the earlier step) is exported to `best_policy/`; results['best'] gives
      its step and its validation and evaluation figures. The selection sees
      only the validation episodes, so the evaluation success reported for
      the chosen step is not inflated by the choice.
    validation_seed: seed of the first validation environment; the
      validation seeds must not overlap the evaluation's.
    validation_dataset: demonstration shards held out of training (e.g.
      collected with another seed): at every evaluation the agent's loss on
      `validation_batches` batches of their windows is written to TensorBoard
      (eval/validation_loss) and the results, to show overfitting.
    validation_batches: batches of `batch_size` windows that loss averages.
    checkpoint_interval: train steps between checkpoints.
    summary_interval: train steps between TensorBoard summaries.
    log_interval: train steps between progress lines.
    eval_plot_fn: after each evaluation, called as fn(path, agent, task,
      history_length, seed) to draw a PNG into `plots/` (e.g.
      `energy_plot.plot_oracle_state` for a 2D action).
    eval_video_fn: after each evaluation, called as fn(path, policy, task,
      history_length, seed) to write a GIF into `videos/` (e.g.
      `video.write_episode_gif`); `policy` is the batched eager policy.
    seed: TensorFlow's global seed. Windows sampled by a Reverb server do not
      follow it, so two runs of one seed differ; with `sample_in_memory` the
      windows' draws follow it too.
    strategy: the `tf.distribute` strategy (see `distribution.make_strategy`):
      'default' (one device), 'mirrored' (every local GPU, or every logical
      CPU), 'multi_worker' (the processes TF_CONFIG names) or 'tpu'.
      `batch_size` stays the global batch.
    replay_server: HOST:PORT of a `data_tools.replay_server` to read the
      demonstrations (and their statistics) from, instead of serving
      `dataset` here. If the server stops answering for
      `RemoteDemonstrations.lost_after_seconds`, the process ends with status
      `train_eval.SERVER_LOST_EXIT_STATUS` and its last checkpoint intact.
    sample_in_memory: hold `dataset`'s windows in this process's memory and
      sample them there instead of serving them from a Reverb server: the
      same windows and distribution, without the server's sampling and
      decoding on the step's cores (the dataset must fit in memory). Does not
      apply to demonstrations from `replay_server`.
    tpu: the TPU for `strategy='tpu'` (its name or grpc:// address; empty:
      the local TPU).
  """
  dataset: Optional[str] = None
  task: str = 'PARTICLE'
  history_length: int = 2
  batch_size: int = 256
  num_iterations: int = 5000
  learning_rate: float = 1e-3
  learning_rate_decay: float = 1.0
  network_class: Callable[..., tf.Module] = mlp_ebm.MLPEBM
  agent_class: Callable[..., tf.Module] = ibc_agent.ImplicitBCAgent
  eval_interval: int = 1000
  first_eval_step: int = 0
  eval_episodes: int = 50
  eval_seed: int = 1_000_000
  eval_workers: int = 1
  validation_episodes: int = 0
  validation_seed: int = 2_000_000
  validation_dataset: Optional[str] = None
  validation_batches: int = 10
  checkpoint_interval: int = 1000
  summary_interval: int = 100
  log_interval: int = 100
  eval_plot_fn: Optional[Callable[..., None]] = None
  eval_video_fn: Optional[Callable[..., None]] = None
  seed: int = 0
  strategy: str = 'default'
  replay_server: Optional[str] = None
  sample_in_memory: bool = False
  tpu: str = ''

  def __post_init__(self):
    for name in _POSITIVE_INTEGERS:
      checks.integer(f'train_eval.{name}', getattr(self, name))
    for name in _NATURAL_NUMBERS:
      checks.integer(f'train_eval.{name}', getattr(self, name), minimum=0)
    checks.real('train_eval.learning_rate', self.learning_rate, low=1e-12)
    checks.real('train_eval.learning_rate_decay', self.learning_rate_decay,
                low=1e-12, high=1.0)
    if (self.validation_episodes and
        self.validation_seed < self.eval_seed + self.eval_episodes and
        self.eval_seed < self.validation_seed + self.validation_episodes):
      raise ValueError(
          f'The validation episodes (seeds {self.validation_seed} to '
          f'{self.validation_seed + self.validation_episodes - 1}) overlap '
          f'the evaluation episodes (seeds {self.eval_seed} to '
          f'{self.eval_seed + self.eval_episodes - 1}): a policy chosen on '
          'them would be scored on the episodes it was chosen on. Move '
          'train_eval.validation_seed.')

  def require_demonstrations(self) -> None:
    """Raises ValueError unless a dataset or a replay server is named."""
    if self.dataset is None and self.replay_server is None:
      raise ValueError('No demonstrations: set train_eval.dataset (a dataset '
                       'directory or glob) or train_eval.replay_server.')
