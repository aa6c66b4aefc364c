"""The benchmarks' shared command-line convention."""
import os
import subprocess
import sys

from absl import app
from absl import flags
import pytest

from bench import cli


def _define(values):
  cli.define_configs(values, 'Gin files.')
  flags.DEFINE_integer('seeds', 3, 'Runs.', lower_bound=1, flag_values=values)


def test_configs_parse_into_absolute_paths_and_names():
  args = cli.parse(_define, ['--configs=gin_configs/particle/mse.gin,'
                             'gin_configs/particle/ibc_dfo.gin'], 'bench.x')
  paths, names = cli.gin_files(args.configs)
  assert names == ['mse', 'ibc_dfo']
  assert paths[0] == os.path.abspath('gin_configs/particle/mse.gin')
  assert args.seeds == 3


@pytest.mark.parametrize('argv, message', [
    ([], 'configs'),
    (['--configs=a.gin', '--seeds=0'], 'seeds'),
    (['--configs=a.gin', '--seedz=2'], 'seedz'),
])
def test_bad_command_lines_raise_usage_errors_naming_the_flag(argv, message):
  with pytest.raises(app.UsageError, match=message):
    cli.parse(_define, argv, 'bench.x')


def test_missing_or_same_named_gin_files_are_refused():
  with pytest.raises(app.UsageError, match='gin file not found: .*nope.gin'):
    cli.gin_files(['nope.gin'])
  with pytest.raises(app.UsageError, match='file names must differ'):
    cli.gin_files(['gin_configs/particle/ibc_dfo.gin',
                   'gin_configs/pushing_states/ibc_dfo.gin'])


def test_a_benchmark_command_reports_a_bad_flag_with_its_usage():
  done = subprocess.run(
      [sys.executable, '-m', 'bench.particle_nd',
       '--configs=gin_configs/particle/mse.gin', '--dims=2,x'],
      capture_output=True, text=True, check=False,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'))
  assert done.returncode != 0
  assert '--dims must be comma-separated integers' in done.stderr


@pytest.mark.parametrize('summary', ['docs/results/scale.json',
                                     '/tmp/scale_eval_only.json'])
def test_record_named_as_the_tool_or_with_a_label_is_accepted(summary):
  cli.require_record_name(summary, 'scale')


@pytest.mark.parametrize('summary', ['docs/results/scales.json',
                                     '/tmp/eval_scale.json'])
def test_record_the_tables_would_not_render_is_refused(summary):
  with pytest.raises(app.UsageError, match="must start with 'scale'"):
    cli.require_record_name(summary, 'scale')
