"""Benchmark reports: machine description, Markdown sections, bar charts."""
import dataclasses
import datetime
import os
import platform
import re
import statistics
from typing import Dict, List, Sequence, Tuple

import numpy as np
from PIL import Image
from PIL import ImageDraw
from PIL import ImageFont
import tensorflow as tf

_BAR_COLORS = ('#4c72b0', '#dd8452', '#55a868', '#c44e52', '#8172b3', '#937860')


@dataclasses.dataclass
class MethodResult:
  """One config's runs, one entry per seed."""
  name: str
  success_rates: List[float]
  train_steps: List[int]
  steps_per_sec: List[float]
  latency_ms: List[float]
  eval_episodes: List[int]

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


def format_table(results: Sequence[MethodResult]) -> str:
  """The comparison as a Markdown table, one row per method."""
  lines = ['| method | success rate (mean ± std) | per seed | train steps | '
           'train steps/s | latency (ms/action) |',
           '| --- | --- | --- | --- | --- | --- |']
  for result in results:
    per_seed = ', '.join(f'{rate:.2f}' for rate in result.success_rates)
    steps = ', '.join(str(step) for step in sorted(set(result.train_steps)))
    lines.append(
        f'| {result.name} '
        f'| {result.success_mean:.3f} ± {result.success_std:.3f} '
        f'| {per_seed} | {steps} '
        f'| {statistics.median(result.steps_per_sec):.1f} '
        f'| {statistics.median(result.latency_ms):.2f} |')
  return '\n'.join(lines)


def format_ratios(results: Sequence[MethodResult], baseline: str) -> str:
  """One line: each method's training speed and latency over the baseline's."""
  base = next(result for result in results if result.name == baseline)
  base_speed = statistics.median(base.steps_per_sec)
  base_latency = statistics.median(base.latency_ms)
  parts = [
      f'{result.name} trains at '
      f'{statistics.median(result.steps_per_sec) / base_speed:.2f}× its '
      f'steps/s and takes '
      f'{statistics.median(result.latency_ms) / base_latency:.1f}× its '
      'latency per action'
      for result in results if result.name != baseline]
  return (f'Relative to {baseline} (medians, same machine and run): '
          + '; '.join(parts) + '.')


def format_section(heading: str, command: str, machine: str, dataset: str,
                   results: Sequence[MethodResult], baseline: str,
                   plot_link: str, latency_method: str) -> str:
  """The Markdown section: heading, provenance, table, notes, ratios, chart."""
  num_seeds = len(results[0].success_rates)
  eval_episodes = sorted({episodes for result in results
                          for episodes in result.eval_episodes})
  paragraphs = [
      heading,
      f'`{command}`',
      f'Machine: {machine}. Date: {datetime.date.today().isoformat()}. '
      f'{dataset}',
      format_table(results),
      f'Success rate: final evaluation of each run '
      f'({"/".join(map(str, eval_episodes))} episodes), mean and population '
      f'std over {num_seeds} seed(s). Train steps/s (from results.json, '
      'training time only) and latency: medians over seeds; latency is one '
      f'observation (batch of 1) through the exported SavedModel, '
      f'{latency_method}.',
  ]
  if baseline and len(results) > 1:
    paragraphs.append(format_ratios(results, baseline))
  paragraphs.append(f'![success rate per method]({plot_link})')
  return '\n\n'.join(paragraphs) + '\n'


def _heading_level(line: str) -> int:
  """The level of a Markdown ATX heading line; 0 for any other line."""
  match = re.match(r'(#{1,6})\s', line)
  return len(match.group(1)) if match else 0


def replace_section(markdown: str, heading: str, section: str) -> str:
  """Returns `markdown` with the section under `heading` replaced by `section`.

  The old section runs from the line equal to `heading` up to the next heading
  of the same or a higher level (or the end). Without one, `section` is
  appended.
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


def draw_success_chart(results: Sequence[MethodResult], path: str,
                       title: str) -> None:
  """Bar chart of mean success per method with ±std error bars, axis 0..1."""
  width, height = max(480, 150 * len(results) + 110), 400
  left, right, top, bottom = 70, 30, 56, 48
  image = Image.new('RGB', (width, height), 'white')
  draw = ImageDraw.Draw(image)
  font = ImageFont.load_default(size=14)
  to_y = lambda value: top + (1.0 - value) * (height - top - bottom)
  for tick in np.linspace(0.0, 1.0, 5):
    draw.line([(left, to_y(tick)), (width - right, to_y(tick))],
              fill='#dddddd')
    draw.text((left - 8, to_y(tick)), f'{tick:.2f}', fill='black', font=font,
              anchor='rm')
  slot = (width - left - right) / len(results)
  for index, result in enumerate(results):
    center, half = left + slot * (index + 0.5), slot * 0.3
    mean, std = result.success_mean, result.success_std
    draw.rectangle([(center - half, to_y(mean)), (center + half, to_y(0.0))],
                   fill=_BAR_COLORS[index % len(_BAR_COLORS)])
    low, high = to_y(max(0.0, mean - std)), to_y(min(1.0, mean + std))
    draw.line([(center, low), (center, high)], fill='black', width=2)
    for y in (low, high):
      draw.line([(center - 8, y), (center + 8, y)], fill='black', width=2)
    draw.text((center, high - 6), f'{mean:.2f}', fill='black', font=font,
              anchor='md')
    draw.text((center, height - bottom + 10), result.name, fill='black',
              font=font, anchor='mt')
  draw.line([(left, top), (left, to_y(0.0)), (width - right, to_y(0.0))],
            fill='black')
  draw.text((width / 2, 22), title, fill='black',
            font=ImageFont.load_default(size=16), anchor='mm')
  os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
  image.save(path)


def draw_dimension_chart(dims: Sequence[int],
                         series: Dict[str, Sequence[Tuple[float, float]]],
                         path: str, title: str) -> None:
  """Success (mean, ±std bars) against action dimension, one line per method.

  `series` maps a method to its (mean, std) per entry of `dims`; the x axis
  spaces the dimensions evenly (2, 4, 8, ... as in the paper's Figure 6).
  """
  def position(index: int) -> float:
    return index / (len(dims) - 1) if len(dims) > 1 else 0.5

  _draw_line_chart(
      {name: [(position(index), mean, std)
              for index, (mean, std) in enumerate(points)]
       for name, points in series.items()},
      [(position(index), f'{dim}D') for index, dim in enumerate(dims)],
      path, title, 'action dimension')


def draw_curve_chart(series: Dict[str, Sequence[Tuple[float, float]]],
                     path: str, title: str, x_label: str) -> None:
  """Success against a quantity (e.g. minutes), one line per method.

  `series` maps a method to its (x, success) points; the x axis runs from 0
  to the largest x, with 5 ticks.
  """
  x_max = max((x for points in series.values() for x, _ in points),
              default=1.0) or 1.0
  _draw_line_chart(
      {name: [(x / x_max, success, 0.0) for x, success in points]
       for name, points in series.items()},
      [(tick / x_max, f'{tick:.0f}') for tick in np.linspace(0, x_max, 5)],
      path, title, x_label)


def _draw_line_chart(series: Dict[str, Sequence[Tuple[float, float, float]]],
                     x_ticks: Sequence[Tuple[float, str]], path: str,
                     title: str, x_label: str) -> None:
  """Lines of (x in [0, 1] of the axis, mean, std) points, success axis 0..1."""
  width, height = 720, 420
  left, right, top, bottom = 70, 210, 56, 56
  inset = 40  # between the axis and the first and last point
  image = Image.new('RGB', (width, height), 'white')
  draw = ImageDraw.Draw(image)
  font = ImageFont.load_default(size=14)
  to_y = lambda value: top + (1.0 - value) * (height - top - bottom)
  span = width - left - right - 2 * inset
  to_x = lambda fraction: left + inset + span * fraction
  for tick in np.linspace(0.0, 1.0, 5):
    draw.line([(left, to_y(tick)), (width - right, to_y(tick))],
              fill='#dddddd')
    draw.text((left - 8, to_y(tick)), f'{tick:.2f}', fill='black', font=font,
              anchor='rm')
  for fraction, label in x_ticks:
    draw.text((to_x(fraction), height - bottom + 10), label, fill='black',
              font=font, anchor='mt')
  for number, (name, points) in enumerate(series.items()):
    color = _BAR_COLORS[number % len(_BAR_COLORS)]
    xy = [(to_x(fraction), to_y(mean)) for fraction, mean, _ in points]
    if len(xy) > 1:
      draw.line(xy, fill=color, width=3)
    for (x, y), (_, mean, std) in zip(xy, points):
      draw.ellipse([(x - 4, y - 4), (x + 4, y + 4)], fill=color)
      if std > 0:
        draw.line([(x, to_y(max(0.0, mean - std))),
                   (x, to_y(min(1.0, mean + std)))], fill=color, width=2)
    legend_y = top + 20 * number
    draw.line([(width - right + 15, legend_y), (width - right + 40, legend_y)],
              fill=color, width=3)
    draw.text((width - right + 46, legend_y), name, fill='black', font=font,
              anchor='lm')
  draw.line([(left, top), (left, to_y(0.0)), (width - right, to_y(0.0))],
            fill='black')
  draw.text((left - 50, top - 20), 'success', fill='black', font=font)
  draw.text(((left + width - right) / 2, height - 18), x_label,
            fill='black', font=font, anchor='mm')
  draw.text((width / 2, 22), title, fill='black',
            font=ImageFont.load_default(size=16), anchor='mm')
  os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
  image.save(path)
