"""One command-line convention for the benchmarks: absl flags, checked early.

Each benchmark defines its flags in a function of a `flags.FlagValues`, so
that importing several benchmarks never clashes, and parses with `parse`:
a bad value raises `app.UsageError`, which `run` prints with the usage, as
the package's entry points do.
"""
import os
import sys
import types
from typing import Callable, Optional, Sequence

from absl import app
from absl import flags

Args = types.SimpleNamespace  # the parsed flags, as attributes


def parse(define_flags: Callable[[flags.FlagValues], None],
          argv: Sequence[str], program: str) -> Args:
  """Flag values of `argv` (without the program name) as attributes.

  `--help` prints the flags' help and exits.

  Raises:
    app.UsageError: for an unknown flag, a missing required one or a value
      of the wrong type.
  """
  values = flags.FlagValues()
  define_flags(values)
  if '--help' in argv or '-h' in argv:
    print(f'python -m {program}\n\n{values.get_help()}')
    sys.exit(0)
  try:
    values([program] + list(argv))
  except flags.Error as error:
    raise app.UsageError(str(error)) from None
  return Args(**values.flag_values_dict())


def define_configs(values: flags.FlagValues, help_text: str,
                   default: Optional[Sequence[str]] = None) -> None:
  """--configs: a comma-separated list (required without a default)."""
  flags.DEFINE_list('configs', default, help_text, flag_values=values)
  if default is None:
    flags.mark_flag_as_required('configs', flag_values=values)


def define_run_flags(values: flags.FlagValues, work_dir: str,
                     output_help: str) -> None:
  """--gin_bindings (for every run), --work_dir and --output."""
  flags.DEFINE_multi_string('gin_bindings', [],
                            'Gin binding for every run (repeatable).',
                            flag_values=values)
  flags.DEFINE_string('work_dir', work_dir, 'Dataset and run directories.',
                      flag_values=values)
  flags.DEFINE_string('output', 'docs/benchmarks.md', output_help,
                      flag_values=values)


def gin_files(paths: Sequence[str]) -> tuple[list[str], list[str]]:
  """(absolute paths, method names) of --configs gin files.

  Raises:
    app.UsageError: if a file does not exist or two share a base name.
  """
  paths = [os.path.abspath(path) for path in paths]
  missing = [path for path in paths if not os.path.isfile(path)]
  if missing:
    raise app.UsageError(f'--configs: gin file not found: {missing[0]}')
  names = [os.path.splitext(os.path.basename(path))[0] for path in paths]
  if len(set(names)) != len(names):
    raise app.UsageError(f'--configs: file names must differ, got {names}')
  return paths, names


def known_names(flag: str, values: Sequence[str],
                known: Sequence[str]) -> list[str]:
  """`values`, checked to be among `known`; app.UsageError otherwise."""
  unknown = [value for value in values if value not in known]
  if unknown:
    raise app.UsageError(
        f'{flag}: unknown {unknown}; known: {", ".join(known)}')
  return list(values)


def named_bindings(flag: str, text: str, reserved: str
                   ) -> tuple[str, tuple[str, ...]]:
  """'NAME=BINDING;BINDING' -> (NAME, bindings); app.UsageError unless it
  names something other than `reserved` and binds something."""
  name, _, text_bindings = text.partition('=')
  name = name.strip()
  bindings = tuple(binding.strip() for binding in text_bindings.split(';')
                   if binding.strip())
  require(bool(name and name != reserved and bindings),
          f'{flag}={text!r}: expected NAME=BINDING[;BINDING...] with a NAME '
          f'other than {reserved!r}')
  return name, bindings


def require(condition: bool, message: str) -> None:
  """Raises app.UsageError(message) unless `condition`."""
  if not condition:
    raise app.UsageError(message)


def define_record_flags(values: flags.FlagValues, name: str) -> None:
  """--output (the Markdown file whose section is written) and --summary
  (the run's record, docs/results/<name>.json by default)."""
  flags.DEFINE_string('output', 'docs/benchmarks.md',
                      'Markdown file whose section is written.',
                      flag_values=values)
  flags.DEFINE_string('summary', os.path.join('docs', 'results',
                                              f'{name}.json'),
                      'JSON record of the run (its name starts with '
                      f'{name!r}).', flag_values=values)


def require_record_name(summary: str, name: str) -> None:
  """Raises app.UsageError unless the record file `summary` is named `name`
  or `name_LABEL` (.json), the names bench.results_tables renders."""
  stem = os.path.splitext(os.path.basename(summary))[0]
  require(stem == name or stem.startswith(f'{name}_'),
          f'--summary: the file name must start with {name!r} '
          f'(bench.results_tables renders it), got {summary}')


def run(main: Callable[[Sequence[str]], None]) -> None:
  """Runs `main(argv without the program name)` under absl's app."""
  app.run(lambda argv: main(argv[1:]), flags_parser=_own_flags_only)


def _own_flags_only(argv: list[str]) -> list[str]:
  """Leaves the command line to `parse`; absl's global flags keep defaults."""
  flags.FLAGS(argv[:1])
  return argv
