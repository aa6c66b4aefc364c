"""Keeps a run's checkpoints trustworthy: none diverged, none damaged.

A training whose loss or weights become non-finite stops before its next
checkpoint or export (`guard_triggers`), so the newest checkpoint is always
one a rerun can resume from. A newest checkpoint that cannot be read (a kill
or a full disk while it was written) is set aside and the run resumes from
the one before (`set_aside_unreadable`).
"""
import os
import re
from typing import Callable, List, Optional, Sequence

from absl import logging
import numpy as np
import tensorflow as tf
from tf_agents.train import learner as tf_agents_learner

DAMAGED_SUFFIX = '.damaged'


class TrainingDiverged(RuntimeError):
  """The loss or the weights became non-finite; nothing was saved from them."""


def checkpoint_dir(root_dir: str) -> str:
  """Where the Learner writes the run's training checkpoints."""
  return os.path.join(root_dir, tf_agents_learner.TRAIN_DIR,
                      tf_agents_learner.POLICY_CHECKPOINT_DIR)


def _step_of(checkpoint: str) -> int:
  match = re.search(r'ckpt-(\d+)$', checkpoint)
  return int(match.group(1)) if match else -1


def diverged_error(root_dir: str, step: int, what: str) -> TrainingDiverged:
  """The error a diverged run stops with: the step and the last checkpoint."""
  latest = tf.train.latest_checkpoint(checkpoint_dir(root_dir))
  resume = (f'the last good checkpoint is step {_step_of(latest)} ({latest})'
            if latest else 'no checkpoint was written before it')
  return TrainingDiverged(
      f'Training diverged: {what} at step {step}. Nothing was checkpointed or '
      f'exported from it; {resume}. Lower train_eval.learning_rate, or check '
      'the demonstrations and their statistics, then run again.')


def all_finite(variables: Sequence[tf.Variable]) -> bool:
  """Whether every value of every variable is finite."""
  return all(np.all(np.isfinite(np.asarray(variable.numpy(), np.float64)))
             for variable in variables
             if variable.dtype.is_floating)


def guard_triggers(learner: tf_agents_learner.Learner,
                   variables: Sequence[tf.Variable], root_dir: str) -> None:
  """Makes the learner's triggers (checkpoints) refuse non-finite weights.

  The Learner runs its triggers at the end of each `run`; guarded, they
  raise `TrainingDiverged` instead of saving.
  """
  def guard(trigger: Callable[..., None]) -> Callable[..., None]:
    def guarded(step, force_trigger: bool = False):
      if not all_finite(variables):
        raise diverged_error(root_dir, int(step), 'the weights are not finite')
      return trigger(step, force_trigger=force_trigger)
    return guarded
  learner.triggers = [guard(trigger) for trigger in learner.triggers]


def _readable(checkpoint: str) -> Optional[str]:
  """None if every tensor of `checkpoint` reads back; else the error."""
  try:
    reader = tf.train.load_checkpoint(checkpoint)
    for name in reader.get_variable_to_shape_map():
      reader.get_tensor(name)
  except (tf.errors.OpError, ValueError, IndexError) as error:
    return f'{type(error).__name__}: {error}'
  return None


def set_aside_unreadable(root_dir: str) -> List[str]:
  """Sets aside unreadable newest checkpoints, so the run resumes before them.

  Each damaged checkpoint's files are renamed with `DAMAGED_SUFFIX` (kept,
  not deleted) and the checkpoint state then names the newest readable one.

  Returns:
    The checkpoints set aside, newest first.
  """
  directory = checkpoint_dir(root_dir)
  state = tf.train.get_checkpoint_state(directory)
  if state is None:
    return []
  kept = list(state.all_model_checkpoint_paths) or [
      state.model_checkpoint_path]
  set_aside = []
  while kept:
    problem = _readable(kept[-1])
    if problem is None:
      break
    damaged = kept.pop()
    logging.warning('Checkpoint %s cannot be read (%s); setting it aside as '
                    '%s* and resuming from %s.', damaged, problem,
                    damaged + DAMAGED_SUFFIX,
                    kept[-1] if kept else 'the start')
    for path in tf.io.gfile.glob(damaged + '.*'):
      tf.io.gfile.rename(path, damaged + DAMAGED_SUFFIX + path[len(damaged):],
                         overwrite=True)
    set_aside.append(damaged)
  if set_aside:
    if kept:
      tf.compat.v1.train.update_checkpoint_state(
          directory, kept[-1], all_model_checkpoint_paths=kept)
    else:
      tf.io.gfile.remove(os.path.join(directory, 'checkpoint'))
  return set_aside
