r"""Command line: evaluate an exported policy on a registered task.

    python -m ibc_agents.evaluate --policy_dir=runs/quickstart/policy \
        --task=PARTICLE [--episodes=100] [--seed=1000000] [--workers=1] \
        [--video_dir=DIR] \
        [--gin_file=...] [--gin_bindings=...]

The policy is any TF-Agents SavedModel (`PolicySaver`) whose observations
carry a history dimension (`HistoryWrapper`), from a run of this library or
from a user's own pipeline. The episodes, seeds and success rule are those
of training's evaluation (`train_eval.eval_seed` is the default seed), so
the printed results match it. Gin files and bindings configure the task
(e.g. `ParticleEnv.n_dim = 4`) and the evaluation
(`evaluate.max_live_episodes = 20`: episodes in waves of at most 20 live
environments, to bound memory; the pixel configurations set it).
"""
import functools
import os

from absl import app
from absl import flags
import gin
import tensorflow as tf
from tf_agents.policies import py_tf_eager_policy

import environments
from ibc_agents.train import evaluation
from ibc_agents.train import train_eval
from ibc_agents.train import video

flags.DEFINE_string('policy_dir', None, 'SavedModel directory of the policy.')
flags.DEFINE_string('task', None, 'Registered task, e.g. PARTICLE.')
flags.DEFINE_integer('episodes', 100, 'Evaluation episodes.')
flags.DEFINE_integer('seed', 1_000_000,
                     "The first episode's seed (training's default).")
flags.DEFINE_integer('workers', 1,
                     'Processes that step the environments (results do not '
                     'depend on it).')
flags.DEFINE_string('video_dir', None,
                    'Writes a GIF of the first episode here (tasks that '
                    'render images).')
flags.DEFINE_multi_string('gin_file', [], 'gin files configuring the task.')
flags.DEFINE_multi_string('gin_bindings', [], 'gin bindings (repeatable).')
flags.mark_flags_as_required(['policy_dir', 'task'])
FLAGS = flags.FLAGS


def history_length_of(policy) -> int:
  """The stacked observations the policy expects: its observations' T."""
  shape = tuple(tf.nest.flatten(policy.time_step_spec.observation)[0].shape)
  if len(shape) < 2:
    raise ValueError(
        f'The policy observes {shape}, without a history dimension; export '
        'it from an agent trained on HistoryWrapper observations.')
  return int(shape[0])


def main(argv):
  if len(argv) > 1:
    raise app.UsageError('Too many command-line arguments.')
  if FLAGS.episodes < 1:
    raise app.UsageError(f'--episodes must be >= 1, got {FLAGS.episodes}.')
  if FLAGS.workers < 1:
    raise app.UsageError(f'--workers must be >= 1, got {FLAGS.workers}.')
  if FLAGS.task not in environments.known_tasks():
    raise app.UsageError(
        f'Unknown --task {FLAGS.task!r}; registered: '
        f'{", ".join(environments.known_tasks())}.')
  gin.parse_config_files_and_bindings(FLAGS.gin_file, FLAGS.gin_bindings)
  if not tf.io.gfile.exists(os.path.join(FLAGS.policy_dir, 'saved_model.pb')):
    raise app.UsageError(f'No SavedModel in --policy_dir={FLAGS.policy_dir}.')
  policy = py_tf_eager_policy.SavedModelPyTFEagerPolicy(
      FLAGS.policy_dir, load_specs_from_pbtxt=True, batch_time_steps=False)
  history_length = history_length_of(policy)
  result = evaluation.evaluate(
      policy,
      functools.partial(train_eval.make_env, FLAGS.task, history_length),
      FLAGS.episodes, seed=FLAGS.seed,
      normalize_return=environments.normalized_score_fn(FLAGS.task),
      num_workers=FLAGS.workers)
  if FLAGS.video_dir:
    tf.io.gfile.makedirs(FLAGS.video_dir)
    path = os.path.join(FLAGS.video_dir, f'seed_{FLAGS.seed}.gif')
    video.write_episode_gif(path, policy, FLAGS.task, history_length,
                            FLAGS.seed)
    print(f'video={path}')
  print(evaluation.format_result(result.as_dict()), flush=True)
