"""Markdown pieces every rendered record shares: its provenance line and
its tables."""
from typing import Any, Dict, Sequence


def provenance(record: Dict[str, Any]) -> str:
  """Command, commit, date and machine: the first lines of every table.

  Records written before the bench tools recorded a commit name the commit
  that added them (`recorded_in_commit`) and describe the machine in words.
  """
  machine = record.get('machine', {})
  if isinstance(machine, str):
    described = machine
  else:
    gpus = machine.get('gpus') or []
    described = (f'{machine.get("cores", "?")} cores '
                 f'({machine.get("cpu_model", "CPU")}), '
                 + (f'GPU: {", ".join(gpus)}' if gpus else 'no GPU'))
  commit = record.get('commit', '')[:7]
  if not commit:
    commit = ('not recorded (record added in '
              f'{record.get("recorded_in_commit", "?")[:7]})')
  date = record.get('date', '')[:10]
  return (f'Command: `{record["command"]}`  \nCommit {commit}, {date}; '
          f'{described}.')


def table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
  """A Markdown table: a header of `columns`, then one line per row."""
  lines = ['| ' + ' | '.join(columns) + ' |',
           '| ' + ' | '.join('---' for _ in columns) + ' |']
  lines += ['| ' + ' | '.join(row) + ' |' for row in rows]
  return '\n'.join(lines)
