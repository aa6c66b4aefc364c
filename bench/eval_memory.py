r"""Peak memory of evaluating a policy with every episode live, and in waves.

    python -m bench.eval_memory --policy_dir=RUN/policy --task=PUSH_PIXELS \
        [--gin_file=gin_configs/pushing_pixels/base.gin] [--episodes=100] \
        [--waves=0,20] [--output=docs/benchmarks.md] \
        [--summary=docs/results/eval_memory.json]

Each setting of `evaluate.max_live_episodes` (--waves; 0: all episodes at
once) evaluates the same policy on the same seeded episodes in a fresh
`python -m ibc_agents.evaluate` process, whose peak resident memory, wall
time and results are recorded. Equal results show that waves change how
much is alive at once, not what the policy does. The record goes to
--summary and the `## Evaluation memory: episodes in waves` section of
--output is written (or replaced) from it.
"""
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, Sequence

from absl import flags

from bench import cli
from bench import report

HEADING = '## Evaluation memory: episodes in waves'
RECORD_NAME = 'eval_memory'  # docs/results/eval_memory[_LABEL].json


def _define_flags(values: flags.FlagValues) -> None:
  flags.DEFINE_string('policy_dir', None, 'SavedModel of the policy.',
                      required=True, flag_values=values)
  flags.DEFINE_string('task', None, 'Registered task.', required=True,
                      flag_values=values)
  flags.DEFINE_multi_string('gin_file', [], 'Gin files of the task.',
                            flag_values=values)
  flags.DEFINE_integer('episodes', 100, 'Evaluation episodes.', lower_bound=1,
                       flag_values=values)
  flags.DEFINE_list('waves', ['0', '20'],
                    'Live episodes at most, one evaluation each (0: all).',
                    flag_values=values)
  cli.define_record_flags(values, RECORD_NAME)


def evaluate_in_process(args: cli.Args, max_live: int) -> Dict[str, Any]:
  """One `ibc_agents.evaluate` process: its peak memory, time and results."""
  binding = f'evaluate.max_live_episodes = {max_live or None}'
  with tempfile.TemporaryDirectory() as work_dir:
    results_path = os.path.join(work_dir, 'results.json')
    command = [sys.executable, '-m', 'ibc_agents.evaluate',
               f'--policy_dir={args.policy_dir}', f'--task={args.task}',
               f'--episodes={args.episodes}', f'--output_json={results_path}',
               *[f'--gin_file={path}' for path in args.gin_file],
               f'--gin_bindings={binding}']
    start = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'))
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status):
      raise RuntimeError(f'Evaluation with {binding} failed:\n'
                         f'{stderr.decode(errors="replace")[-3000:]}')
    with open(results_path) as f:
      results = json.load(f)
  return dict(max_live_episodes=max_live or None,
              peak_rss_bytes=usage.ru_maxrss * 1024,  # Linux: kilobytes
              wall_seconds=seconds, success_rate=results['success_rate'],
              avg_return=results['avg_return'])


def main(argv: Sequence[str]) -> None:
  args = cli.parse(_define_flags, argv, 'bench.eval_memory')
  cli.require_record_name(args.summary, RECORD_NAME)
  cli.require(all(wave.isdigit() for wave in args.waves),
              f'--waves: counts >= 0, got {args.waves}')
  cli.require(os.path.isdir(args.policy_dir),
              f'--policy_dir: no such directory: {args.policy_dir}')
  command = shlex.join(['python', '-m', 'bench.eval_memory', *argv])
  rows = []
  for wave in map(int, args.waves):
    rows.append(evaluate_in_process(args, wave))
    print(f'eval_memory: {rows[-1]}', flush=True)
  record = dict(report.provenance(command), section=HEADING,
                policy_dir=args.policy_dir, task=args.task,
                episodes=args.episodes, rows=rows)
  print(report.write_record_section(args.output, HEADING, args.summary,
                                    record))


if __name__ == '__main__':
  cli.run(main)
