r"""Command line: evaluate an exported policy on a registered task.

    python -m ibc_agents.evaluate --policy_dir=runs/quickstart/policy \
        --task=PARTICLE [--episodes=100] [--seed=1000000] [--workers=1] \
        [--video_dir=DIR] [--output_json=FILE] \
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
import sys

from absl import app
from absl import flags
from absl import logging

from data_tools import console

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
flags.DEFINE_string('output_json', None,
                    'Also writes the results here as JSON (with the policy '
                    'directory, task and seed).')
flags.DEFINE_multi_string('gin_file', [], 'gin files configuring the task.')
flags.DEFINE_multi_string('gin_bindings', [], 'gin bindings (repeatable).')
flags.mark_flags_as_required(['policy_dir', 'task'])
FLAGS = flags.FLAGS


def main(argv):
  if len(argv) > 1:
    raise app.UsageError('Too many command-line arguments.')
  if FLAGS.episodes < 1:
    raise app.UsageError(f'--episodes must be >= 1, got {FLAGS.episodes}.')
  if FLAGS.workers < 1:
    raise app.UsageError(f'--workers must be >= 1, got {FLAGS.workers}.')
  console.quiet_start()
  if not FLAGS['verbosity'].present:  # libraries' INFO lines: --verbosity=0
    logging.set_verbosity(logging.WARNING)
    console.quiet_library_warnings()
  # TensorFlow loads only now, so that --help answers at once.
  # pylint: disable=g-import-not-at-top
  import gin
  import environments
  from ibc_agents.train import evaluation
  from ibc_agents.train import exported
  from ibc_agents.train import run_dir

  if FLAGS.task not in environments.known_tasks():
    raise app.UsageError(
        f'Unknown --task {FLAGS.task!r}; registered: '
        f'{", ".join(environments.known_tasks())}.')
  environments.import_modules(FLAGS.task)
  gin.parse_config_files_and_bindings(FLAGS.gin_file, FLAGS.gin_bindings)
  try:
    results = exported.evaluate_policy(
        FLAGS.policy_dir, FLAGS.task, FLAGS.episodes, FLAGS.seed,
        FLAGS.workers, FLAGS.video_dir)
  except ValueError as error:
    sys.exit(f'Error: {error}')
  if 'video' in results:
    print(f'video={results["video"]}')
  if FLAGS.output_json:
    run_dir.write_json(FLAGS.output_json, dict(
        results, policy_dir=FLAGS.policy_dir, task=FLAGS.task,
        seed=FLAGS.seed))
    print(f'results={FLAGS.output_json}')
  print(evaluation.format_result(results), flush=True)
