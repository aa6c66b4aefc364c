"""Benchmark reports: machine description, Markdown sections, charts."""
import dataclasses
import datetime
import os
import platform
import re
import statistics
import subprocess
from typing import Any, Dict, List, Sequence, Tuple

from matplotlib import figure as matplotlib_figure
import numpy as np
import tensorflow as tf

from bench import protocol
from bench import results_tables

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# What a run depends on: a change under these makes a record's commit stale.
_CODE_PATHS = ('bench', 'data_tools', 'environments', 'gin_configs',
               'ibc_agents', 'Makefile')
# Text below this line in a section is written by hand and kept when a
# bench tool rewrites the section.
NOTES_MARKER = '<!-- notes -->'
_BAR_COLORS = ('#4c72b0', '#dd8452', '#55a868', '#c44e52', '#8172b3', '#937860')


@dataclasses.dataclass
class MethodResult:
  """One config's runs, one entry per seed.

  `success_rates` are the final evaluations; `histories` each run's
  `eval_history` and `wall_seconds` its training command's wall time
  (training and evaluations).
  """
  name: str
  success_rates: List[float]
  train_steps: List[int]
  steps_per_sec: List[float]
  latency_ms: List[float]
  eval_episodes: List[int]
  histories: List[List[Dict[str, Any]]] = dataclasses.field(
      default_factory=list)
  wall_seconds: List[float] = dataclasses.field(default_factory=list)

  def figures(self, key: str = 'success_rate') -> List[protocol.RunFigures]:
    """Each seed's best, last-5 mean and spread of `key`."""
    return [protocol.run_figures(history, key) for history in self.histories]

  def has(self, key: str) -> bool:
    """Whether every run's evaluations report `key` (e.g. 'p1')."""
    return bool(self.histories) and all(
        any(key in entry for entry in history) for history in self.histories)

  @property
  def success_mean(self) -> float:
    return float(np.mean(self.success_rates))

  @property
  def success_std(self) -> float:
    """Population standard deviation over seeds (0 for one seed)."""
    return float(np.std(self.success_rates))


def cpu_model() -> str:
  """The CPU's model name from /proc/cpuinfo."""
  try:
    with open('/proc/cpuinfo') as f:
      for line in f:
        if line.startswith('model name'):
          return line.split(':', 1)[1].strip()
  except OSError:
    pass
  return platform.processor() or 'unknown CPU'


def machine_description() -> str:
  """Core count, CPU model and GPUs (TensorFlow's view), e.g. for the report."""
  gpus = [tf.config.experimental.get_device_details(gpu).get('device_name',
                                                             gpu.name)
          for gpu in tf.config.list_physical_devices('GPU')]
  return (f'{os.cpu_count()} cores, {cpu_model()}, '
          f'{"GPU: " + ", ".join(gpus) if gpus else "no GPU"}')


def _cell(values: Sequence[float]) -> str:
  mean, std = protocol.mean_std(values)
  return f'{mean:.3f} ± {std:.3f}'


def provenance(command: str) -> Dict[str, Any]:
  """What a record was measured with: command, commit, date and machine.

  The keys of every record in docs/results/ (see `bench.results_tables`).
  """
  return dict(
      command=command, commit=_git('rev-parse', 'HEAD'),
      uncommitted_code_changes=bool(_git('status', '--porcelain', '--',
                                         *_CODE_PATHS)),
      date=datetime.datetime.now(datetime.timezone.utc).isoformat(
          timespec='seconds'),
      machine=dict(cores=os.cpu_count(),
                   cores_available=len(os.sched_getaffinity(0)),
                   cpu_model=cpu_model(),
                   gpus=[gpu.name for gpu in
                         tf.config.list_physical_devices('GPU')]))


def _git(*args: str) -> str:
  return subprocess.run(['git', *args], cwd=_REPO, check=True,
                        capture_output=True, text=True).stdout.strip()


def format_table(results: Sequence[MethodResult]) -> str:
  """The comparison as a Markdown table, one row per method.

  Success as the best evaluation, the mean of the last 5 and their spread,
  each mean ± std over seeds, then per seed best / last-5 mean / spread.
  """
  lines = ['| method | best | last-5 mean | last-5 spread | per seed (best / '
           'last-5 / spread) | train steps | train steps/s | wall time (min) '
           '| latency (ms/action) |',
           '| --- | --- | --- | --- | --- | --- | --- | --- | --- |']
  for result in results:
    runs = result.figures()
    per_seed = ', '.join(f'{run.best:.2f} / {run.last_mean:.2f} / '
                         f'{run.last_spread:.2f}' for run in runs)
    steps = ', '.join(str(step) for step in sorted(set(result.train_steps)))
    lines.append(
        f'| {result.name} | {_cell([run.best for run in runs])} '
        f'| {_cell([run.last_mean for run in runs])} '
        f'| {_cell([run.last_spread for run in runs])} '
        f'| {per_seed} | {steps} '
        f'| {statistics.median(result.steps_per_sec):.1f} '
        f'| {statistics.median(result.wall_seconds) / 60:.1f} '
        f'| {statistics.median(result.latency_ms):.2f} |')
  return '\n'.join(lines)


def format_rates_table(results: Sequence[MethodResult],
                       keys: Sequence[str]) -> str:
  """Best and last-5 mean of further rates (e.g. p1, p2), mean ± std."""
  header = ' | '.join(f'{key} best | {key} last-5 mean' for key in keys)
  lines = [f'| method | {header} |',
           '| --- |' + ' --- | --- |' * len(keys)]
  for result in results:
    cells = []
    for key in keys:
      runs = result.figures(key)
      cells += [_cell([run.best for run in runs]),
                _cell([run.last_mean for run in runs])]
    lines.append(f'| {result.name} | ' + ' | '.join(cells) + ' |')
  return '\n'.join(lines)


def format_section(heading: str, record_table: str, dataset: str,
                   results: Sequence[MethodResult],
                   plots: Sequence[Tuple[str, str]],
                   latency_method: str) -> str:
  """The Markdown section: heading, record table, notes, charts.

  `record_table` is the section's table generated from its JSON record,
  between the markers `bench.results_tables` regenerates it in; `plots`
  are the charts as (alt text, link), shown in order.
  """
  num_seeds = len(results[0].success_rates)
  eval_episodes = sorted({episodes for result in results
                          for episodes in result.eval_episodes})
  evaluations = sorted({run.num_evaluations for result in results
                        for run in result.figures()})
  paragraphs = [heading, record_table, dataset]
  rate_keys = [key for key in ('p1', 'p2')
               if all(result.has(key) for result in results)]
  if rate_keys:
    paragraphs.append(format_rates_table(results, rate_keys))
  paragraphs.append(
      f'Success rate: each run evaluated {"/".join(map(str, evaluations))} '
      f'times on {"/".join(map(str, eval_episodes))} episodes; best: the '
      f'highest evaluation (the IBC paper\'s figure); last-5 mean and '
      f'spread (max - min): over the last {protocol.LAST_EVALUATIONS} '
      f'evaluations (Diffusion Policy\'s figure, and how much it '
      f'oscillates); mean ± population std over {num_seeds} seed(s). '
      'Train steps/s (from results.json, training time only) and latency: '
      'medians over seeds; latency is one observation (batch of 1) through '
      f'the exported SavedModel, {latency_method}. Per-seed figures, wall '
      'times and every evaluation are in the JSON record.')
  paragraphs += [f'![{alt}]({link})' for alt, link in plots]
  return '\n\n'.join(paragraphs) + '\n'


def _heading_level(line: str) -> int:
  """The level of a Markdown ATX heading line; 0 for any other line."""
  match = re.match(r'(#{1,6})\s', line)
  return len(match.group(1)) if match else 0


def replace_section(markdown: str, heading: str, section: str) -> str:
  """Returns `markdown` with the section under `heading` replaced by `section`.

  The old section runs from the line equal to `heading` up to the next heading
  of the same or a higher level (or the end). Without one, `section` is
  appended. Written notes survive: the old section's lines from a
  `NOTES_MARKER` line on follow the new section.
  """
  level = _heading_level(heading + ' ')
  lines = markdown.splitlines(keepends=True)
  section = section.rstrip('\n') + '\n'
  start = next((i for i, line in enumerate(lines) if line.rstrip() == heading),
               None)
  if start is None:
    kept = markdown.rstrip('\n')
    return f'{kept}\n\n{section}' if kept else section
  end = next((i for i in range(start + 1, len(lines))
              if 0 < _heading_level(lines[i]) <= level), len(lines))
  notes = next((i for i in range(start + 1, end)
                if lines[i].rstrip() == NOTES_MARKER), None)
  if notes is not None and NOTES_MARKER not in section:
    section += '\n' + ''.join(lines[notes:end]).rstrip('\n') + '\n'
  tail = ''.join(lines[end:])
  return ''.join(lines[:start]) + section + (f'\n{tail}' if tail else '')


def write_section(path: str, heading: str, section: str) -> None:
  """Writes `section` into the Markdown file `path` (created if missing)."""
  markdown = '# Benchmarks\n'
  if os.path.exists(path):
    with open(path) as f:
      markdown = f.read()
  os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
  with open(path, 'w') as f:
    f.write(replace_section(markdown, heading, section))


def write_record_section(output: str, heading: str, summary_path: str,
                         record: Dict[str, Any],
                         notes: Sequence[str] = ()) -> str:
  """Writes `record` to `summary_path`, then `heading`'s section of `output`:
  the record's table (`bench.results_tables`) between its markers, then
  `notes`. Returns the marked table."""
  protocol.write_summary(summary_path, record)
  name = os.path.splitext(os.path.basename(summary_path))[0]
  table = results_tables.marked_table(name, record)
  write_section(output, heading, '\n\n'.join([heading, table, *notes]) + '\n')
  return table


def _save(figure: matplotlib_figure.Figure, path: str) -> None:
  os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
  figure.savefig(path, dpi=100)


def draw_success_chart(results: Sequence[MethodResult], path: str,
                       title: str) -> None:
  """Bar chart of mean success per method with ±std error bars, axis 0..1."""
  figure = matplotlib_figure.Figure(
      figsize=(max(4.8, 1.5 * len(results) + 1.1), 4.0), layout='constrained')
  axes = figure.subplots()
  names = [result.name for result in results]
  means = [result.success_mean for result in results]
  bars = axes.bar(names, means, yerr=[result.success_std for result in results],
                  capsize=6, color=[_BAR_COLORS[index % len(_BAR_COLORS)]
                                    for index in range(len(results))])
  axes.bar_label(bars, labels=[f'{mean:.2f}' for mean in means], padding=3)
  axes.set_ylim(0.0, 1.05)
  axes.set_ylabel('success rate')
  axes.set_title(title)
  axes.grid(axis='y', color='0.9')
  axes.set_axisbelow(True)
  _save(figure, path)


def draw_dimension_chart(dims: Sequence[int],
                         series: Dict[str, Sequence[Tuple[float, float]]],
                         path: str, title: str) -> None:
  """Success (mean, ±std bars) against action dimension, one line per method.

  `series` maps a method to its (mean, std) per entry of `dims`; the x axis
  is logarithmic in the dimension (2, 4, 8, ... as in the paper's Figure 6).
  """
  _draw_line_chart(
      {name: [(dim, mean, std) for dim, (mean, std) in zip(dims, points)]
       for name, points in series.items()},
      path, title, 'action dimension', x_ticks=dims)


def draw_curve_chart(series: Dict[str, Sequence[Tuple[float, float]]],
                     path: str, title: str, x_label: str) -> None:
  """Success against a quantity (e.g. minutes), one line per method."""
  _draw_line_chart(
      {name: [(x, success, 0.0) for x, success in points]
       for name, points in series.items()}, path, title, x_label)


def _draw_line_chart(series: Dict[str, Sequence[Tuple[float, float, float]]],
                     path: str, title: str, x_label: str,
                     x_ticks: Sequence[int] = ()) -> None:
  """Lines of (x, mean, std) points, success axis 0..1; `x_ticks` on a log x."""
  figure = matplotlib_figure.Figure(figsize=(7.2, 4.2), layout='constrained')
  axes = figure.subplots()
  for number, (name, points) in enumerate(series.items()):
    xs, means, stds = (np.array(column, float) for column in zip(*points))
    axes.errorbar(xs, means, yerr=stds if stds.any() else None, marker='o',
                  capsize=4, linewidth=2, label=name,
                  color=_BAR_COLORS[number % len(_BAR_COLORS)])
  if x_ticks:
    axes.set_xscale('log', base=2)
    axes.set_xticks(list(x_ticks), [f'{tick}D' for tick in x_ticks])
    axes.minorticks_off()
  axes.set_ylim(-0.02, 1.02)
  axes.set_xlabel(x_label)
  axes.set_ylabel('success rate')
  axes.set_title(title)
  axes.grid(color='0.9')
  axes.legend(loc='center left', bbox_to_anchor=(1.02, 0.5), frameon=False)
  _save(figure, path)


def draw_step_curves(results: Sequence[MethodResult], path: str,
                     title: str) -> None:
  """Success against train step: each seed thin, the mean over seeds bold.

  Runs evaluated at the same steps give the mean; a method whose seeds
  differ in steps shows its seeds only.
  """
  figure = matplotlib_figure.Figure(figsize=(7.2, 4.2), layout='constrained')
  axes = figure.subplots()
  for number, result in enumerate(results):
    color = _BAR_COLORS[number % len(_BAR_COLORS)]
    curves = [sorted((entry['step'], entry['success_rate'])
                     for entry in history) for history in result.histories]
    for curve in curves:
      steps, rates = zip(*curve)
      axes.plot(steps, rates, color=color, alpha=0.35, linewidth=1)
    if len({tuple(step for step, _ in curve) for curve in curves}) == 1:
      steps = [step for step, _ in curves[0]]
      means = np.mean([[rate for _, rate in curve] for curve in curves], 0)
      axes.plot(steps, means, color=color, marker='o', linewidth=2,
                label=f'{result.name} (mean of {len(curves)} seeds)')
    else:
      axes.plot([], [], color=color, label=f'{result.name} (seeds)')
  axes.set_ylim(-0.02, 1.02)
  axes.set_xlabel('train step')
  axes.set_ylabel('success rate')
  axes.set_title(title)
  axes.grid(color='0.9')
  axes.legend(loc='lower right')
  _save(figure, path)
