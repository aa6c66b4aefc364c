"""bench.throughput's record, and its tables for docs/benchmarks.md.

A record (docs/results/throughput*.json) holds the provenance of one run of
the benchmark and one result per configuration; `render` is the renderer
`bench.results_tables` uses for it.
"""
from typing import Any, Dict, Sequence

HEADING = '## Throughput'
RECORD_PREFIX = 'throughput'  # docs/results/throughput[_LABEL].json


def heading(record_name: str) -> str:
  """The section of a record: `## Throughput`, or `## Throughput: LABEL`."""
  label = record_name[len(RECORD_PREFIX):].lstrip('_')
  return f'{HEADING}: {label.replace("_", " ")}' if label else HEADING


def record(provenance: Dict[str, Any], section: str, tensorflow_version: str,
           results: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
  """The run's record: its provenance and each configuration's result."""
  return dict(provenance, section=section, tensorflow=tensorflow_version,
              results=list(results))
REFERENCE_ROOFLINE = '330 GFLOP/s float32, 650 GFLOP/s bfloat16'


def _optional(rate) -> str:
  """A rate, or '-' for results that did not measure it."""
  return '-' if rate is None else f'{rate:.1f}'


def render(run: Dict[str, Any], provenance: str) -> str:
  """The training, action and memory tables of a record, with their notes.

  `provenance` is the record's provenance line, as `bench.results_tables`
  writes it for every record. The notes on what each column means are
  written under the `## Throughput` record's tables only.
  """
  results = run['results']
  loads = [load for result in results for load in result['load_average']]
  train_rows = [
      '| config | variant | train steps/s: median (min-max) | reference | '
      'GFLOP/step | GFLOP/s | matmul roofline GFLOP/s | % of roofline | '
      'waiting on data |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- |']
  act_rows = ['| config | variant | sampler | GFLOP/action | p50 ms | p99 ms |',
              '| --- | --- | --- | --- | --- | --- |']
  data_rows = ['| config | what | shapes | replay batches/s alone | '
               'in-memory batches/s alone | peak RSS (GiB) |',
               '| --- | --- | --- | --- | --- | --- |']
  for result in results:
    for variant in result['variants']:
      speed = variant['steps_per_sec']
      train_rows.append(
          f'| {result["config"]} | {variant["variant"]} '
          f'| {speed["median"]:.2f} ({speed["min"]:.2f}-{speed["max"]:.2f}) '
          f'| {result["reference"] or "-"} '
          f'| {variant["gflop_per_step"]:.3g} '
          f'| {variant["achieved_gflops"]:.0f} '
          f'| {variant["roofline_gflops"]:.0f} '
          f'| {100 * variant["roofline_fraction"]:.0f}% '
          f'| {100 * variant["data_wait_fraction"]:.0f}% |')
      for action in variant['actions']:
        act_rows.append(
            f'| {result["config"]} | {variant["variant"]} '
            f'| {action["sampler"]} | {action["gflop"]:.3g} '
            f'| {action["p50_ms"]:.1f} | {action["p99_ms"]:.1f} |')
    data_rows.append(
        f'| {result["config"]} | {result["description"]} '
        f'| batch {result["batch_size"]}, '
        f'{result["matmul_rows"]} rows, width {result["width"]}, '
        f'{2 * result["depth"] + 1} dense layers '
        f'| {result["replay_batches_per_sec"]:.1f} '
        f'| {_optional(result.get("memory_batches_per_sec"))} '
        f'| {result["peak_rss_mib"] / 1024:.2f} |')
  quick_note = (' **Quick smoke run: the figures mean nothing.**'
                if any(result['quick'] for result in results) else '')
  main = run.get('section', HEADING) == HEADING
  train_notes = (
      'Each configuration runs in its own process on synthetic demonstrations '
      'served by an embedded Reverb `DemonstrationReplay` ("+memory" '
      'variants: sampled in memory, `train_eval.sample_in_memory`); a step '
      'is one '
      '`Learner.run(iterations=1)`. GFLOP/step counts the dense layers\' '
      'matrix products and the pixel encoder\'s convolutions from the shapes '
      '(backward = 2x forward; Langevin: '
      'forward and action gradient per chain step; gradient penalty: 6x '
      'forward), not elementwise work. The roofline is the best GFLOP/s of a '
      '[rows, width] x [width, width] matmul in the variant\'s dtype, measured '
      'in the same process. "Waiting on data" is 1 - (step time on a fixed '
      'in-memory batch) / (step time on the variant\'s data). Reference: the original '
      'implementation on a 2-core AMD EPYC, TF 2.15.1, with a '
      f'{REFERENCE_ROOFLINE} matmul roofline: compare the '
      'percentages of roofline when this machine\'s roofline differs.'
      if main else f'Columns as in "{HEADING[3:]}".')
  act_notes = ('Greedy action for one observation through `PyTFEagerPolicy` '
               '(tf.function), after warm-up calls; XLA variants compile the '
               'train step only, so their policies are not timed again.')
  return '\n\n'.join(
      [f'{provenance}  \nTensorFlow {run["tensorflow"]}. Load average (1 min) '
       f'during the run: {min(loads):.1f} to {max(loads):.1f}.{quick_note}',
       '\n'.join(train_rows), train_notes, '\n'.join(act_rows)]
      + ([act_notes] if main else []) + ['\n'.join(data_rows)])
