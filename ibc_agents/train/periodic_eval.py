"""The evaluation a training runs every `eval_interval` steps.

It measures the greedy policy, writes the figures to TensorBoard, exports the
policy (and the best-validated one), and draws the configured plot and video.
"""
import functools
import os
from typing import Any, Callable, Dict, Iterator, Optional

import numpy as np
import tensorflow as tf
from tf_agents.environments import py_environment
from tf_agents.environments import wrappers
from tf_agents.policies import policy_saver
from tf_agents.policies import py_tf_eager_policy

import environments
from ibc_agents.train import evaluation
from ibc_agents.train import run_dir
from ibc_agents.train import settings as settings_lib

_VALIDATION_KEY = ('validation_success_rate', 'validation_avg_return')
_BEST_FIGURES = _VALIDATION_KEY + ('success_rate', 'avg_return')


def make_env(task: str, history_length: int,
             seed: Optional[int] = None) -> py_environment.PyEnvironment:
  """The task's environment with `history_length` stacked observations."""
  return wrappers.HistoryWrapper(
      environments.make(task, seed=seed), history_length=history_length,
      tile_first_step_obs=True)


def make_eval_fn(
    root_dir: str, agent, settings: settings_lib.TrainEvalSettings,
    best: Dict[str, Any],
    held_out_windows: Optional[Iterator[Any]] = None
) -> Callable[[int], Dict[str, float]]:
  """fn(step) -> the evaluation's figures, after summaries and exports.

  The figures gain `validation_success_rate` and `validation_avg_return`
  when there are validation episodes; `best` and `best_policy/` are updated
  when those beat `best`'s (see `TrainEvalSettings.validation_episodes`).
  With `held_out_windows` (batches of windows the agent does not train on)
  they gain `validation_loss`, the agent's mean loss on
  `settings.validation_batches` of them.
  """
  eager_policy = py_tf_eager_policy.PyTFEagerPolicy(
      agent.policy, use_tf_function=True, batch_time_steps=False)
  saver = policy_saver.PolicySaver(agent.policy,
                                   train_step=agent.train_step_counter)
  writer = tf.summary.create_file_writer(os.path.join(root_dir, 'eval'))
  task, history_length = settings.task, settings.history_length
  held_out_loss = tf.function(lambda windows: agent.loss(windows).loss)

  def run_episodes(num_episodes: int, seed: int) -> evaluation.EvalResult:
    return evaluation.evaluate(
        eager_policy, functools.partial(make_env, task, history_length),
        num_episodes, seed=seed,
        normalize_return=environments.normalized_score_fn(task),
        num_workers=settings.eval_workers)

  def drawing_path(directory: str, step: int, extension: str) -> str:
    tf.io.gfile.makedirs(os.path.join(root_dir, directory))
    return os.path.join(root_dir, directory, f'step_{step:07d}.{extension}')

  def eval_fn(step: int) -> Dict[str, float]:
    figures = run_episodes(settings.eval_episodes, settings.eval_seed).as_dict()
    if settings.validation_episodes:
      validation = run_episodes(settings.validation_episodes,
                                settings.validation_seed)
      figures.update(validation_success_rate=validation.success_rate,
                     validation_avg_return=validation.avg_return)
    if held_out_windows is not None:
      figures['validation_loss'] = float(np.mean([
          held_out_loss(next(held_out_windows).data)
          for _ in range(settings.validation_batches)]))
    with writer.as_default():
      for name, value in figures.items():
        tf.summary.scalar(f'eval/{name}', value, step=step)
    saver.save(os.path.join(root_dir, run_dir.POLICY_DIR))
    if settings.validation_episodes and _beats(figures, best):
      saver.save(os.path.join(root_dir, run_dir.BEST_POLICY_DIR))
      best.clear()
      best.update(step=step, **{name: figures[name] for name in _BEST_FIGURES})
    if settings.eval_plot_fn is not None:
      path = drawing_path(run_dir.PLOTS_DIR, step, 'png')
      settings.eval_plot_fn(path, agent, task, history_length,
                            settings.eval_seed)
      _summarize_images(writer, 'eval/energy', path, step)
    if settings.eval_video_fn is not None:
      path = drawing_path(run_dir.VIDEOS_DIR, step, 'gif')
      settings.eval_video_fn(path, eager_policy, task, history_length,
                             settings.eval_seed)
      _summarize_images(writer, 'eval/episode_frames', path, step)
    return figures

  return eval_fn


def _summarize_images(writer, tag: str, path: str, step: int,
                      max_frames: int = 8) -> None:
  """A PNG, or up to `max_frames` evenly spaced frames of a GIF, as images."""
  if not tf.io.gfile.exists(path):  # a plot function may draw nothing
    return
  images = tf.io.decode_image(tf.io.read_file(path), channels=3,
                              expand_animations=True)
  frames = images if images.shape.rank == 4 else images[None]
  keep = np.unique(np.linspace(0, frames.shape[0] - 1, max_frames).astype(int))
  with writer.as_default():
    tf.summary.image(tag, tf.gather(frames, keep), step=step,
                     max_outputs=max_frames)


def _beats(figures: Dict[str, float], best: Dict[str, Any]) -> bool:
  """Whether `figures` validate better than `best` (success, then return)."""
  return not best or (tuple(figures[name] for name in _VALIDATION_KEY) >
                      tuple(best[name] for name in _VALIDATION_KEY))
