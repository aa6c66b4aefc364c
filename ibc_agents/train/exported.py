"""Exported policies (SavedModels) on a task: checked against it, evaluated.

The policy is any TF-Agents SavedModel (`PolicySaver`) whose observations
carry a history dimension (`HistoryWrapper`), from a run of this library or
from a user's own pipeline; it is evaluated as training evaluates.
"""
import functools
import os
from typing import Any, Dict, Optional

import tensorflow as tf
from tf_agents.policies import py_tf_eager_policy
from tf_agents.utils import nest_utils

import environments
from ibc_agents.train import evaluation
from ibc_agents.train import train_eval
from ibc_agents.train import video


def history_length_of(policy) -> int:
  """The stacked observations the policy expects: its observations' T."""
  shape = tuple(tf.nest.flatten(policy.time_step_spec.observation)[0].shape)
  if len(shape) < 2:
    raise ValueError(
        f'The policy observes {shape}, without a history dimension; export '
        'it from an agent trained on HistoryWrapper observations.')
  return int(shape[0])


def describe_specs(observation_spec, action_spec) -> str:
  """Observations and actions in plain words: `obs [2, 4] float32; ...`."""
  def leaves(spec) -> str:
    return ', '.join(
        ' '.join(filter(None, (path, str(list(leaf.shape)), leaf.dtype.name)))
        for path, leaf in nest_utils.flatten_with_joined_paths(spec))
  return (f'observations: {leaves(observation_spec)}; '
          f'actions: {leaves(action_spec)}')


def check_policy_fits_task(policy, env, task: str) -> None:
  """Refuses a policy whose observations or actions differ from the task's.

  Raises:
    ValueError: showing both, in plain words.
  """
  ours = describe_specs(policy.time_step_spec.observation, policy.action_spec)
  theirs = describe_specs(env.time_step_spec().observation, env.action_spec())
  if ours != theirs:
    raise ValueError(
        f'The policy does not fit task {task} as configured.\n'
        f'  policy: {ours}\n  task:   {theirs}\n'
        'Evaluate it on the task it was trained on, with the same gin '
        'bindings (e.g. ParticleEnv.n_dim).')


def evaluate_policy(policy_dir: str, task: str, num_episodes: int,
                    seed: int = 1_000_000, num_workers: int = 1,
                    video_dir: Optional[str] = None) -> Dict[str, Any]:
  """Evaluates the SavedModel in `policy_dir` on `task`, as training does.

  Gin must already be parsed, with the task's modules imported
  (`environments.import_modules`).

  Returns:
    The evaluation's figures (`EvalResult.as_dict()`), plus `video` when
    `video_dir` is given.
  """
  if not tf.io.gfile.exists(os.path.join(policy_dir, 'saved_model.pb')):
    raise ValueError(f'No SavedModel in --policy_dir={policy_dir}.')
  policy = py_tf_eager_policy.SavedModelPyTFEagerPolicy(
      policy_dir, load_specs_from_pbtxt=True, batch_time_steps=False)
  history_length = history_length_of(policy)
  env_factory = functools.partial(train_eval.make_env, task, history_length)
  env = env_factory()
  try:
    check_policy_fits_task(policy, env, task)
  finally:
    env.close()
  results = evaluation.evaluate(
      policy, env_factory, num_episodes, seed=seed,
      normalize_return=environments.normalized_score_fn(task),
      num_workers=num_workers).as_dict()
  if video_dir:
    tf.io.gfile.makedirs(video_dir)
    path = os.path.join(video_dir, f'seed_{seed}.gif')
    video.write_episode_gif(path, policy, task, history_length, seed)
    results['video'] = path
  return results
