r"""Writes the result tables of docs/ and the README from recorded runs.

    python -m bench.results_tables            # rewrite every generated table
    python -m bench.results_tables --check    # exit 1 naming any that differ

Every record in docs/results/*.json is a run summary written by a bench tool:
its command, commit, date, machine, seeds and per-run figures. A document
holds a generated table between two markers,

    <!-- result: NAME -->  ...  <!-- /result: NAME -->

where NAME is the record's file name without `.json`; the README's summary
(paper beside here, one row per record) sits between
`<!-- results summary -->` and `<!-- /results summary -->`. Tables are
rendered from the records alone, so a figure in docs cannot drift from the
run that measured it; `--check` (run by the tests) fails when one has.
"""
import dataclasses
import glob
import json
import os
import statistics
import sys
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from absl import app
from absl import flags

from bench import markdown_tables
from bench import speed_tables
from bench import throughput_report

RESULTS_DIR = os.path.join('docs', 'results')
DOCUMENTS = ('README.md', os.path.join('docs', 'benchmarks.md'))
SUMMARY = 'results summary'
BENCHMARKS_LINK = 'docs/benchmarks.md'


@dataclasses.dataclass(frozen=True)
class SummaryRow:
  """One line of the README's results table."""
  result: str  # what was measured, e.g. "2D particle, IBC-DFO quickstart"
  paper: str  # the paper's figure, or "-" where it has none
  here: str  # ours, with its spread
  runs: str  # seeds x episodes
  section: str  # heading in docs/benchmarks.md the row links to


def _quickstart(record: Dict[str, Any]) -> Tuple[str, List[SummaryRow]]:
  """`bench.particle_quickstart`: fresh collection and training per seed.

  Only the quickstart as shipped has a README row; runs with extra bindings
  or DART data are levers tried on it.
  """
  runs = record['runs']
  rows = [[str(run['seed']), f'{run["success_rate"]:.2f}',
           f'{run["avg_return"]:.2f}', f'{run["steps_per_sec"]:.1f}',
           f'{run["train_seconds"]:.0f}', f'{run["collect_seconds"]:.0f}']
          for run in runs]
  success = [run['success_rate'] for run in runs]
  speed = [run['steps_per_sec'] for run in runs]
  seconds = [run['train_seconds'] for run in runs]
  rows.append(['min / mean / max',
               f'{min(success):.2f} / {statistics.mean(success):.3f} / '
               f'{max(success):.2f}', '',
               f'{min(speed):.1f} / {statistics.mean(speed):.1f} / '
               f'{max(speed):.1f}',
               f'{min(seconds):.0f} / {statistics.mean(seconds):.0f} / '
               f'{max(seconds):.0f}', ''])
  table = markdown_tables.table(
      ('seed (collection and training)', 'success rate', 'avg return',
       'train steps/s', 'train + eval (s)', 'collection (s)'), rows)
  text = f'{markdown_tables.provenance(record)}\n\n{table}'
  episodes = runs[0]['eval_episodes']
  if record.get('gin_bindings') or record.get('action_noise'):
    return text, []  # a lever, not the quickstart
  summary = SummaryRow(
      'Quickstart: 2D particle, IBC-DFO, `make quickstart`', '-',
      f'{statistics.mean(success):.2f} ({min(success):.2f} to '
      f'{max(success):.2f})', f'{len(runs)} x {episodes}',
      'Quickstart: five fresh runs')
  return text, [summary]


# The paper's Table 3 (Florence et al. 2021), success over 3 seeds x 100
# episodes at 0.02 m: {task: {method: (mean, std)}}. Its "multi target" row
# is the original's BlockPushDiscontinuous, PUSH_DISCONTINUOUS here.
PAPER_TABLE_3 = {
    'PUSH': {'IBC': (1.00, 0.0), 'MDN': (1.00, 0.0), 'MSE': (0.983, 0.005)},
    'PUSH_DISCONTINUOUS': {'IBC': (0.99, 0.0), 'MDN': (0.997, 0.005),
                           'MSE': (0.897, 0.048)},
    'PUSH_PIXELS': {'IBC': (1.00, 0.0), 'MDN': (0.10, 0.043),
                    'MSE': (0.87, 0.041)},
}


def _paper_method(name: str) -> str:
  """The paper's row for a config name: ibc_* -> IBC, mse -> MSE, ..."""
  return 'IBC' if name.startswith('ibc') else name.split('_')[0].upper()


def _as_published(value: float) -> str:
  """Two decimals, or three where the paper gives them (98.3% -> 0.983)."""
  return f'{value:.2f}' if round(value, 2) == value else f'{value:.3f}'


def _figure(summary: Dict[str, Dict[str, float]], name: str) -> str:
  return f'{summary[name]["mean"]:.2f} ± {summary[name]["std"]:.2f}'


# A comparison's figures beside success, where its runs report them (best
# evaluation, mean ± std over seeds): (record key, label).
_OPTIONAL_FIGURES = (('p1', 'p1'), ('p2', 'p2'),
                     ('normalized_score_mean', 'normalized score'))


def dataset_text(dataset: Dict[str, Any]) -> str:
  """A comparison record's dataset in words."""
  if dataset.get('path'):
    return (f'{dataset["episodes"]} episodes ({dataset["steps"]} steps) from '
            f'`{dataset["path"]}`')
  text = (f'{dataset["episodes"]} oracle episodes ({dataset["steps"]} steps, '
          f'collection seed {dataset["collection_seed"]})')
  if dataset.get('action_noise'):
    text += (f', DART: its actions executed with noise '
             f'{dataset["action_noise"]} of the action range and recorded '
             'clean')
  if 'oracle' in dataset:
    oracle = dataset['oracle']
    text += (f'; the oracle that collected them, scored as the runs are, '
             f'succeeds in {oracle["success_rate"]:.2f} of the first '
             f'{oracle["episodes"]} evaluation episodes: what an exact copy '
             'of it would reach')
  return text


def _comparison(record: Dict[str, Any]) -> Tuple[str, List[SummaryRow]]:
  """`bench.compare`: methods x seeds on one task, the paper's protocol."""
  task = record['task']
  paper = PAPER_TABLE_3.get(task, {})
  # Bindings of the whole comparison (they shaped the demonstrations too).
  collection = ''.join(f'; `{binding}`' for binding in record['gin_bindings'])
  oracle = record['dataset'].get('oracle')
  ceiling = (f'; oracle {oracle["success_rate"]:.2f}' if oracle else '')
  rows, summary = [], []
  for method in record['methods']:
    success = method['summary']['success_rate']
    runs = method['runs']
    per_seed = ' / '.join(f'{run["success_rate"]["best"]:.2f}'
                          for run in runs)
    paper_figure = paper.get(_paper_method(method['name']))
    paper_text = ('-' if paper_figure is None else
                  ' ± '.join(map(_as_published, paper_figure)))
    extra = ''.join(f'; {label} {_figure(method["summary"][key], "best")}'
                    for key, label in _OPTIONAL_FIGURES
                    if key in method['summary'])
    rows.append([method['name'], paper_text, _figure(success, 'best'),
                 _figure(success, 'last_mean'),
                 _figure(success, 'last_spread'), per_seed + extra,
                 str(runs[0]['train_steps']),
                 f'{statistics.median(r["steps_per_sec"] for r in runs):.1f}',
                 f'{statistics.median(r["latency_ms"] for r in runs):.1f}'])
    summary.append(SummaryRow(
        f'{task}, {method["name"]}{collection}', paper_text,
        f'{_figure(success, "best")} (last 5: '
        f'{_figure(success, "last_mean")}{ceiling})',
        f'{len(runs)} x {runs[0]["eval_episodes"]}',
        record['section'].lstrip('#').strip()))
  evaluation = record['evaluation']['text']
  table = markdown_tables.table(
      ('method', 'paper (Table 3)', 'best', 'last-5 mean', 'last-5 spread',
       'best per seed', 'train steps', 'steps/s', 'latency (ms/action)'), rows)
  bindings = ', '.join(f'`{binding}`' for binding in record['gin_bindings'])
  shaped = ('trained with' if record['dataset'].get('path')
            else 'collected and trained with')
  collected = f', {shaped} {bindings}' if bindings else ''
  return (f'{markdown_tables.provenance(record)}  \nEvaluation: '
          f'{evaluation}. Dataset: {dataset_text(record["dataset"])}'
          f'{collected}. Each cell is mean ± std over seeds.\n\n{table}'
          f'{_ratios(record)}\n\nSuccess at every evaluation, per run:\n\n'
          + _evaluations_table(record['methods']), summary)


def _ratios(record: Dict[str, Any]) -> str:
  """A paragraph: each method's speed and latency over the baseline's, or
  nothing for a record without a baseline."""
  medians = {method['name']: (
      statistics.median(run['steps_per_sec'] for run in method['runs']),
      statistics.median(run['latency_ms'] for run in method['runs']))
             for method in record['methods']}
  baseline = record.get('baseline')
  if baseline not in medians or len(medians) < 2:
    return ''
  base_speed, base_latency = medians.pop(baseline)
  parts = [f'{name} trains at {speed / base_speed:.2f}× its steps/s and '
           f'takes {latency / base_latency:.1f}× its latency per action'
           for name, (speed, latency) in medians.items()]
  return (f'\n\nRelative to {baseline} (medians, same machine and run): '
          + '; '.join(parts) + '.')


def _evaluations_table(methods: List[Dict[str, Any]]) -> str:
  """One row per run: its success at each evaluated train step, and its wall
  time (training and evaluations)."""
  steps = sorted({entry['step'] for method in methods
                  for run in method['runs'] for entry in run['eval_history']})
  rows = []
  for method in methods:
    for run in method['runs']:
      success = {entry['step']: entry['success_rate']
                 for entry in run['eval_history']}
      rows.append([method['name'], str(run['seed'])] +
                  [f'{success[step]:.2f}' if step in success else '-'
                   for step in steps] + [f'{run["wall_seconds"] / 60:.0f}'])
  return markdown_tables.table(
      ['method', 'seed'] + [f'step {step}' for step in steps]
      + ['wall time (min)'], rows)


# The paper's Figure 6 and Appendix B.4 (Fig. 11), per method family, in
# words: the figures are read from charts.
PAPER_FIGURE_6 = {
    'ibc_langevin': 'reliable (>= 0.95) to 16D, nonzero at 32D',
    'ibc_ar_dfo': 'reliable to 16D, nonzero at 32D (Fig. 11)',
    'ibc_dfo': 'fails beyond about 5D (Fig. 11)',
    'mse': 'reliable to about 8D',
}
_ND_FIGURES = (('best', 'best'), ('last_mean', 'last-5 mean'),
               ('chosen', 'validation-chosen'))


def _paper_nd(name: str) -> str:
  """The paper's words for a method (the longest matching family)."""
  families = [family for family in PAPER_FIGURE_6 if name.startswith(family)]
  return PAPER_FIGURE_6[max(families, key=len)] if families else '-'


def _particle_nd(record: Dict[str, Any]) -> Tuple[str, List[SummaryRow]]:
  """`bench.particle_nd`: success per method and action dimension."""
  dims = record['dims']
  validated = any(run['validated_step'] is not None
                  for method in record['methods'] for cell in method['cells']
                  for run in cell['runs'])
  figures = [figure for figure in _ND_FIGURES
             if figure[0] != 'chosen' or validated]
  rows, summary = [], []
  for method in record['methods']:
    cells = method['cells']
    speeds = ', '.join(
        f'{statistics.median(run["steps_per_sec"] for run in cell["runs"]):.1f}'
        for cell in cells)
    for key, label in figures:
      rows.append([method['name'], label] +
                  [_figure(cell['summary'], key) for cell in cells] +
                  [str(method['train_steps']), speeds])
    summary.append(SummaryRow(
        f'Particle N-D (Fig. 6), {method["name"]}', _paper_nd(method['name']),
        ', '.join(f'{dim}D {cell["summary"]["best"]["mean"]:.2f}'
                  for dim, cell in zip(dims, cells)) + ' (best)',
        f'{len(record["seeds"])} x '
        f'{"/".join(map(str, record["eval_episodes"]))}',
        record['section'].lstrip('#').strip()))
  data = record['dataset']
  noise = data['dart_noise']
  dart = (f'; DART noise {noise:g} in all, {noise:g}/sqrt(d) per dimension'
          if noise else '')
  table = markdown_tables.table(
      ['method', 'figure'] + [f'{dim}D' for dim in dims] +
      ['train steps', 'train steps/s per dimension'], rows)
  return (f'{markdown_tables.provenance(record)}  \nPer dimension: '
          f'{data["episodes_per_dimension"]} oracle episodes (collection '
          f'seed {data["collection_seed"]}{dart}); every run is evaluated on '
          f'the same {"/".join(map(str, record["eval_episodes"]))} seeded '
          f'episodes; training seeds {", ".join(map(str, record["seeds"]))}. '
          'Each cell is mean ± std over seeds.\n\n' + table, summary)


def _push_fidelity(record: Dict[str, Any]) -> Tuple[str, List[SummaryRow]]:
  """`bench.push_fidelity`: our PUSH beside the original's recordings."""
  rows = []
  for name, medians in (
      (f'our oracle, {record["oracle"]["episodes"]} episodes (success '
       f'{record["oracle"]["success_rate"]:.2f})', record['oracle']),
      ("the original's recorded episodes", record['recorded'])):
    rows.append([name, f'{medians["move_per_step_m"]:.4f}',
                 f'{1e3 * medians["effector_lag_m"]:.1f}',
                 f'{medians["episode_length"]:g}'])
  medians = markdown_tables.table(
      ('demonstrations (medians)', 'move per step (m)', 'effector lag (mm)',
       'episode length'), rows)
  replay = record['replay']
  replays = markdown_tables.table(
      ('largest departure in the first '
       f'{record["early_steps"]} pushing steps (worst episode)',
       'median largest departure, whole episodes',
       'replays ending on success'),
      [[f'{1e3 * replay["worst_early_departure_m"]:.1f} mm',
        f'{1e3 * replay["median_largest_departure_m"]:.1f} mm',
        f'{replay["solved"]} of {replay["episodes"]}']])
  return (f'{markdown_tables.provenance(record)}  \nRecording: '
          f'`{record["recording"]}`.\n\n{medians}\n\nThe recorded episodes '
          'replayed open loop from their first poses:\n\n' + replays, [])


def _speed(render: Callable[[Dict[str, Any]], str]
           ) -> Callable[[Dict[str, Any]], Tuple[str, List[SummaryRow]]]:
  """A speed table's renderer: its table, no README row."""
  return lambda record: (render(record), [])


# Record name (or prefix ending in '_') -> fn(record) -> (the docs table, the
# README's rows).
RENDERERS: Dict[str, Callable[[Dict[str, Any]],
                              Tuple[str, List[SummaryRow]]]] = {
    'quickstart': _quickstart,
    'quickstart_': _quickstart,
    'compare_': _comparison,
    'particle_nd': _particle_nd,
    'particle_nd_': _particle_nd,
    'push_fidelity': _push_fidelity,
    'push_fidelity_': _push_fidelity,
    throughput_report.RECORD_PREFIX: _speed(speed_tables.throughput),
    f'{throughput_report.RECORD_PREFIX}_': _speed(speed_tables.throughput),
    'time_to_success_': _speed(speed_tables.time_to_success),
    'latency_': _speed(speed_tables.latency),
    'replay_throughput': _speed(speed_tables.replay_throughput),
    'replay_throughput_': _speed(speed_tables.replay_throughput),
    'profile_step': _speed(speed_tables.profile_step),
    'profile_step_': _speed(speed_tables.profile_step),
    'scale': _speed(speed_tables.scale),
    'scale_': _speed(speed_tables.scale),
    'eval_memory': _speed(speed_tables.eval_memory),
    'eval_memory_': _speed(speed_tables.eval_memory),
    'step_levers': _speed(speed_tables.step_levers),
    'step_levers_': _speed(speed_tables.step_levers),
}


def _renderer(name: str):
  for key, renderer in RENDERERS.items():
    if name == key or (key.endswith('_') and name.startswith(key)):
      return renderer
  return None


def marked_table(name: str, record: Dict[str, Any]) -> str:
  """The table of the record named `name`, between the markers a document
  holds it in.

  Raises:
    ValueError: if no renderer takes `name`.
  """
  renderer = _renderer(name)
  if renderer is None:
    raise ValueError(f'{name} has no renderer in bench.results_tables '
                     f'(known: {", ".join(sorted(RENDERERS))}).')
  table, _ = renderer(record)
  return f'<!-- result: {name} -->\n{table}\n<!-- /result: {name} -->'


def anchor(heading: str) -> str:
  """GitHub's anchor for a markdown heading."""
  kept = ''.join(c for c in heading.lower() if c.isalnum() or c in ' -_')
  return kept.replace(' ', '-')


def render(results_dir: str) -> Tuple[Dict[str, str], str]:
  """({record name: its docs table}, the README's summary table)."""
  tables, summary = {}, []
  for path in sorted(glob.glob(os.path.join(results_dir, '*.json'))):
    name = os.path.splitext(os.path.basename(path))[0]
    renderer = _renderer(name)
    if renderer is None:
      raise ValueError(f'{path} has no renderer in bench.results_tables '
                       f'(known: {", ".join(sorted(RENDERERS))}).')
    with open(path) as f:
      tables[name], rows = renderer(json.load(f))
    summary += rows
  summary_table = markdown_tables.table(
      ('result', 'paper', 'here', 'seeds x episodes', 'details'),
      [(row.result, row.paper, row.here, row.runs,
        f'[{row.section}]({BENCHMARKS_LINK}#{anchor(row.section)})')
       for row in summary])
  return tables, summary_table


def _replace_block(text: str, marker: str, content: str,
                   document: str) -> Optional[str]:
  """`text` with the block between `marker`'s comments set to `content`;
  None when `text` has no such block."""
  begin, end = f'<!-- {marker} -->', f'<!-- /{marker} -->'
  if begin not in text:
    return None
  if text.count(begin) != 1 or text.count(end) != 1:
    raise ValueError(f'{document}: "{begin}" needs exactly one "{end}".')
  head, rest = text.split(begin)
  _, tail = rest.split(end)
  return f'{head}{begin}\n{content}\n{end}{tail}'


def regenerate(root: str = '.') -> Dict[str, Tuple[str, str]]:
  """{document: (its text now, its text with regenerated tables)}.

  Raises:
    ValueError: if a record has no table in any document, or a document's
      markers name a record that does not exist.
  """
  tables, summary = render(os.path.join(root, RESULTS_DIR))
  placed = set()
  documents = {}
  for document in DOCUMENTS:
    with open(os.path.join(root, document)) as f:
      text = f.read()
    new = text
    for name, table in tables.items():
      replaced = _replace_block(new, f'result: {name}', table, document)
      if replaced is not None:
        new = replaced
        placed.add(name)
    new = _replace_block(new, SUMMARY, summary, document) or new
    unknown = [line for line in new.splitlines()
               if line.startswith('<!-- result: ') and
               line[len('<!-- result: '):-len(' -->')] not in tables]
    if unknown:
      raise ValueError(f'{document}: {unknown[0]} names no record in '
                       f'{RESULTS_DIR}.')
    documents[document] = (text, new)
  missing = sorted(set(tables) - placed)
  if missing:
    raise ValueError(f'No document has a table for {", ".join(missing)}: '
                     f'add "<!-- result: {missing[0]} -->" and its end '
                     'marker where it belongs.')
  return documents


def main(argv: Sequence[str]) -> None:
  del argv
  documents = regenerate()
  stale = [document for document, (old, new) in documents.items()
           if old != new]
  if flags.FLAGS.check:
    if stale:
      sys.exit(f'Generated tables differ from docs/results/ in '
               f'{", ".join(stale)}: run `python -m bench.results_tables`.')
    print('results_tables: every generated table matches its record.')
    return
  for document in stale:
    with open(document, 'w') as f:
      f.write(documents[document][1])
  print(f'results_tables: rewrote {", ".join(stale) or "nothing"}.')


if __name__ == '__main__':
  flags.DEFINE_bool('check', False, 'Only compare; exit 1 if any differs.')
  app.run(main)
