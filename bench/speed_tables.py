"""Tables of the speed records: how fast things run, not how well they learn.

Each function renders one bench tool's record (docs/results/*.json) as the
Markdown its section of docs/benchmarks.md holds; `bench.results_tables`
picks them by record name. None has a row in the README's results summary,
which compares success with the paper's.
"""
import statistics
from typing import Any, Dict

from bench import markdown_tables
from bench import throughput_report

LATENCY_BASELINE = 'today'  # bench.latency's variant without extra bindings


def throughput(record: Dict[str, Any]) -> str:
  """`bench.throughput`: train steps/s, action latency and memory."""
  return throughput_report.render(record, markdown_tables.provenance(record))


def time_to_success(record: Dict[str, Any]) -> str:
  """`bench.time_to_success`: one row per compute precision."""
  threshold = record['threshold']
  rows = []
  for result in record['results']:
    minutes = result['wall_seconds'] / 60
    best = result['best_success_rate']
    rows.append([
        result['precision'],
        f'{minutes:.1f} min' if result['reached']
        else f'not reached in {minutes:.1f} min',
        str(result['step'] or '-'), str(len(result['evaluations'])),
        '-' if best is None else f'{best:.2f}'])
  table = markdown_tables.table(
      ('precision', f'wall time to success >= {threshold:.2f}', 'train step',
       'evaluations', 'best success'), rows)
  episodes = record['eval_episodes']
  coarse = (f' Fewer than {record["min_eval_episodes"]} episodes per '
            'evaluation: a smoke run, not a measurement.'
            if episodes < record['min_eval_episodes'] else '')
  return (f'{markdown_tables.provenance(record)}  \n'
          f'Dataset: `{record["dataset"]}`.\n\n{table}\n\n'
          'Wall time from launching `python -m ibc_agents.train` to the end '
          f'of the first evaluation ({episodes} episodes) at or above the '
          'threshold: start-up, data loading and every evaluation '
          f'included.{coarse}')


def latency(record: Dict[str, Any]) -> str:
  """`bench.latency`: each variant against its run's own acting."""
  baselines = {result['run']: result for result in record['results']
               if result['variant'] == LATENCY_BASELINE}
  rows = []
  for result in record['results']:
    base = baselines[result['run']]
    rows.append([
        result['run'], result['variant'],
        '<br>'.join(f'`{binding}`' for binding in result['bindings']) or '-',
        f'{result["p50_ms"]:.1f}', f'{result["p99_ms"]:.1f}',
        f'{result["p50_ms"] / base["p50_ms"]:.2f}',
        f'{result["success_rate"]:.2f}',
        f'{result["success_rate"] - base["success_rate"]:+.2f}'])
  table = markdown_tables.table(
      ('run', 'variant', 'bindings', 'p50 ms', 'p99 ms',
       f'p50 / {LATENCY_BASELINE}', 'success', f'vs {LATENCY_BASELINE}'), rows)
  runs = ', '.join(f'{name}: `{root}`' for name, root in record['runs'].items())
  return (f'{markdown_tables.provenance(record)}  \nRuns: {runs}.\n\n'
          f'{table}\n\nOne observation per call through the exported '
          f'SavedModel, {record["calls"]} calls per variant after '
          f'{record["warmup_calls"]} warm-up calls, in {record["rounds"]} '
          f'interleaved rounds; success over {record["episodes"]} episodes '
          "from training's evaluation seeds.")


def replay_throughput(record: Dict[str, Any]) -> str:
  """`bench.replay_throughput`: two readers of one Reverb table."""
  batch_size = record['batch_size']
  readers = record['readers']
  rows = [[f'`{reader["name"]}`', f'{reader["batches_per_sec"]:.0f}',
           f'{reader["batches_per_sec"] * batch_size:.0f}']
          for reader in readers]
  table = markdown_tables.table(
      ('reader of the same Reverb table', 'batches/s', 'windows/s'), rows)
  first, second = (reader['batches_per_sec'] for reader in readers)
  return (f'{markdown_tables.provenance(record)} Load average (1 min) at '
          f'the end: {record["load_average"]:.1f}.  \n'
          f'{record["episodes"]} particle oracle episodes, '
          f'{record["windows"]} windows of {record["history_length"]} steps, '
          f'batches of {batch_size}; median of {record["repeats"]} repeats '
          f'of {record["num_batches"]} batches.\n\n{table}\n\n'
          f'Ratio {first / second:.1f}x: per batch, the first reader takes '
          f'{1e3 / first:.1f} ms where the second takes '
          f'{1e3 / second:.1f} ms.')


def profile_step(record: Dict[str, Any]) -> str:
  """`bench.profile_step`: a train step's op time by op type, against the
  matmul roofline."""
  op_ms = record['op_ms_per_step']  # ranked, largest first
  top = record['top']
  total = sum(op_ms.values())
  ranked = list(op_ms.items())
  rows = [[op, f'{ms:.1f}', f'{100 * ms / total:.1f}%']
          for op, ms in ranked[:top]]
  rest = sum(ms for _, ms in ranked[top:])
  rows.append([f'{len(ranked) - top} other op types', f'{rest:.1f}',
               f'{100 * rest / total:.1f}%'])
  table = markdown_tables.table(('op type', 'ms per step',
                                 'share of op time'), rows)
  products = sum(ms for op, ms in op_ms.items()
                 if 'MatMul' in op)  # oneDNN's products, fused or not
  flops = record['product_flops_per_step']
  wall = record['wall_ms_per_step']
  roofline = record['roofline_gflops']
  reached = flops / wall / 1e6  # GFLOP/s
  note = (
      f'Step wall time {wall:.0f} ms; op time summed over the executor '
      f'threads {total:.0f} ms per step (ops overlap when the executor runs '
      'independent ones at once, so shares are of the summed time). '
      f'Matrix-product kernels take {100 * products / total:.0f}% of it. '
      f"The step's {flops / 1e9:.3g} GFLOP of products (counted from the "
      f'shapes) would take {flops / roofline / 1e6:.0f} ms at the dense '
      'matmul roofline measured in the same process '
      f'({roofline:.0f} GFLOP/s); the step reaches {reached:.0f} GFLOP/s, '
      f'{100 * reached / roofline:.0f}% of it.')
  fused = op_ms.get('_MklNativeFusedMatMul', 0.0)
  plain = op_ms.get('_MklMatMul', 0.0)
  if record['splits_forward_backward'] and fused and plain:
    # Forward products are fused with their bias and hold a third of a
    # plain step's product FLOPs; the backward pass's are plain.
    note += (f' Forward products (fused with the bias, a third of the '
             f'FLOPs): {fused:.0f} ms per step, '
             f'{flops / 3 / fused / 1e6:.0f} GFLOP/s of kernel time; '
             f'backward products (plain, two thirds): {plain:.0f} ms, '
             f'{2 * flops / 3 / plain / 1e6:.0f} GFLOP/s.')
  return (f'{markdown_tables.provenance(record)} TensorFlow '
          f'{record["tensorflow"]}; load average (1 min) at the end: '
          f'{record["load_average"]:.1f}.  \nConfiguration {record["config"]} '
          f'({record["variant"]}), {record["steps"]} profiled train steps on '
          f'one fixed batch after warm-up.\n\n{table}\n\n{note}')


def _scale_replay(section: Dict[str, Any]) -> str:
  embedded = section['rows'][0]['rates'][0]  # the in-process reader first
  rows = [[row['server'], str(row['readers']),
           f'{statistics.median(row["rates"]):.1f}', f'{sum(row["rates"]):.1f}',
           f'{sum(row["rates"]) / embedded:.2f}']
          for row in section['rows']]
  return (f'Reading batches of {section["batch_size"]} windows (history 2), '
          f'{section["seconds"]:.0f} s per reader, all readers at once:\n\n'
          + markdown_tables.table(
              ('server', 'reader processes', 'batches/s per reader (median)',
               'batches/s in total', 'total against embedded'), rows))


def _scale_train(section: Dict[str, Any]) -> str:
  rates = section['steps_per_sec']
  baseline = next(iter(rates.values()))  # one process, embedded server
  rows = [[name, f'{rate:.1f}', f'{rate / baseline:.2f}']
          for name, rate in rates.items()]
  return (f'Training particle IBC-DFO (`{section["config"]}`, global batch '
          f'256, steps {section["first_step"]} to {section["last_step"]} '
          'timed, so tracing is left out):\n\n' + markdown_tables.table(
              ('training', 'steps/s', 'against one process'), rows))


def _scale_eval(section: Dict[str, Any]) -> str:
  rows = section['rows']
  first = rows[0]['seconds']
  identical = len({row['result'] for row in rows}) == 1
  return (f'Evaluating {section["episodes"]} PUSH episodes (states; an MSE '
          f'policy trained for {section["train_steps"]} steps, so most '
          'episodes run to their step limit), environments stepped by:\n\n'
          + markdown_tables.table(
              ('`eval_workers`', 'wall time (s)', 'speed against 1'),
              [[str(row['eval_workers']), f'{row["seconds"]:.1f}',
                f'{first / row["seconds"]:.2f}x'] for row in rows])
          + f'\n\nResults identical: {"yes" if identical else "no"} '
          f'({"; ".join(sorted({row["result"] for row in rows}))}).')


def _scale_parity(section: Dict[str, Any]) -> str:
  rows = section['rows']
  gap = abs(rows[0]['success_rate'] - rows[1]['success_rate'])
  return ('Parity: the shipped particle IBC-DFO training '
          f'(`{section["config"]}`, seed 0, global batch 256), evaluated on '
          'the same '
          f'{section["eval_episodes"]} episodes:\n\n'
          + markdown_tables.table(
              ('strategy', 'success', 'wall time (s)'),
              [[row['strategy'], f'{row["success_rate"]:.2f}',
                f'{row["seconds"]:.0f}'] for row in rows])
          + f'\n\nGap: {100 * gap:.0f} points (target: within 5).')


_SCALE_SECTIONS = (('replay', _scale_replay), ('train', _scale_train),
                   ('eval', _scale_eval), ('parity', _scale_parity))


def scale(record: Dict[str, Any]) -> str:
  """`bench.scale`: one table for each section the run measured."""
  tables = [render(record[name]) for name, render in _SCALE_SECTIONS
            if name in record]
  return '\n\n'.join([
      f'{markdown_tables.provenance(record)} Load average (1 min) at the '
      f'end: {record["load_average"]:.1f}.', *tables])


def eval_memory(record: Dict[str, Any]) -> str:
  """`bench.eval_memory`: peak memory of one evaluation, all at once and in
  waves."""
  rows = [[str(row['max_live_episodes'] or f'all {record["episodes"]}'),
           f'{row["success_rate"]:.2f}', f'{row["avg_return"]:.2f}',
           f'{row["peak_rss_bytes"] / 2**30:.2f} GiB',
           f'{row["wall_seconds"]:.0f} s'] for row in record['rows']]
  identical = len({(row['success_rate'], row['avg_return'])
                   for row in record['rows']}) == 1
  return (f'{markdown_tables.provenance(record)}  \nPolicy: '
          f'`{record["policy_dir"]}`, {record["task"]}, {record["episodes"]} '
          'episodes.\n\n' + markdown_tables.table(
              ('episodes live at once', 'success', 'avg return',
               'peak resident memory', 'wall time'), rows)
          + f'\n\nResults identical: {"yes" if identical else "no"}.')


def step_levers(record: Dict[str, Any]) -> str:
  """`bench.step_levers`: each lever's train-step time against the
  configuration's, measured in the same rounds."""
  cases = record['cases']
  baseline = cases[0]['name']
  rows = []
  for case in cases:
    seconds = statistics.median(case['seconds_per_step'])
    speedups = case['speedup_per_round']
    rows.append([
        case['name'], f'`{case["gin_file"]}`',
        '<br>'.join(f'`{binding}`' for binding in case['bindings']) or '-',
        str(case['batch_size']), f'{case["gflop_per_step"]:.1f}',
        f'{seconds:.3f}', f'{1 / seconds:.2f}',
        f'{statistics.median(speedups):.2f}x',
        f'{min(speedups):.2f}-{max(speedups):.2f}'])
  table = markdown_tables.table(
      ('case', 'gin file', 'bindings', 'batch', 'GFLOP/step', 's per step',
       'steps/s', f'speed-up over "{baseline}"', 'per round'), rows)
  threads = ', '.join(f'{name}={value}' for name, value in
                      record['threads'].items() if value) or 'default'
  machine = record['machine']
  first, last = record['load_average']
  return (f'{markdown_tables.provenance(record)} TensorFlow '
          f'{record["tensorflow"]}; {machine["cores_available"]} of '
          f'{machine["cores"]} cores available to the run, threads: '
          f'{threads}; load average (1 min) {first:.1f} at the start, '
          f'{last:.1f} at the end.\n\n{table}\n\nEach case trains on one '
          'fixed batch of synthetic demonstrations (identity normalisers) '
          f'after {record["warmup_steps"]} warm-up steps. Each of the '
          f'{record["rounds"]} rounds times every case in turn, each for '
          'about as long as one step of the slowest; "s per step" is the '
          'median over rounds, the speed-up the median of the per-round '
          f'ratios of "{baseline}"\'s time to the case\'s, which cancels '
          'load that moved between rounds. GFLOP/step counts the dense '
          'products from the shapes (`bench.flops`).')
