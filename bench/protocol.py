"""The paper's evaluation protocol: a run's figures and the comparison summary.

The IBC paper (Florence et al. 2021, Table 3) reports the best evaluation of
each run, mean ± std over 3 seeds x 100 episodes. Diffusion Policy (Chi et
al. 2023) reports the mean of the last evaluations instead, because IBC's
success oscillates from one evaluation to the next; the spread (max - min)
of those last evaluations measures the oscillation. A run's `eval_history`
(results.json) gives all three.
"""
import dataclasses
import json
import os
from typing import Any, Dict, Mapping, Sequence, Tuple

import numpy as np

LAST_EVALUATIONS = 5  # evaluations averaged for the last-5 figure
# What each figure of a run means, written into every summary.
DEFINITIONS = {
    'best': 'the highest of the run\'s evaluations (the IBC paper\'s figure)',
    'last_mean': f'the mean of the run\'s last {LAST_EVALUATIONS} evaluations '
                 '(fewer if it has fewer; Diffusion Policy\'s figure)',
    'last_spread': f'max - min of those last {LAST_EVALUATIONS} evaluations '
                   '(how much success oscillates)',
    'final': 'the last evaluation',
    'p1': 'PUSH_MULTIMODAL: fraction of episodes where one block reached a '
          'target (Diffusion Policy\'s Table 4)',
    'p2': 'PUSH_MULTIMODAL: fraction of episodes where both blocks reached '
          'distinct targets',
    'std': 'population standard deviation over seeds',
}


@dataclasses.dataclass
class RunFigures:
  """One run's evaluations of one quantity (e.g. success_rate)."""
  best: float
  last_mean: float
  last_spread: float
  final: float
  num_evaluations: int


def run_figures(history: Sequence[Mapping[str, Any]],
                key: str = 'success_rate') -> RunFigures:
  """Best, last-5 mean and spread, and final value of `key` over `history`.

  Args:
    history: the run's evaluations, each a dict with 'step' and `key`, in
      any order (results.json's `eval_history`).
    key: the evaluated quantity.

  Raises:
    ValueError: if `history` has no evaluation of `key`.
  """
  values = [float(entry[key]) for entry in
            sorted(history, key=lambda entry: entry['step']) if key in entry]
  if not values:
    raise ValueError(f'No evaluation in the history has {key!r}.')
  last = values[-LAST_EVALUATIONS:]
  return RunFigures(best=max(values), last_mean=float(np.mean(last)),
                    last_spread=max(last) - min(last), final=values[-1],
                    num_evaluations=len(values))


def mean_std(values: Sequence[float]) -> Tuple[float, float]:
  """Mean and population standard deviation (0 for one value)."""
  return float(np.mean(values)), float(np.std(values))


def summarize(runs: Sequence[RunFigures]) -> Dict[str, Dict[str, float]]:
  """Each figure's mean and std over the runs (seeds)."""
  summary = {}
  for name in ('best', 'last_mean', 'last_spread', 'final'):
    mean, std = mean_std([getattr(run, name) for run in runs])
    summary[name] = dict(mean=mean, std=std)
  return summary


def write_summary(path: str, summary: Mapping[str, Any]) -> None:
  """Writes a comparison's summary as indented JSON (directories made)."""
  os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
  with open(path, 'w') as f:
    json.dump(summary, f, indent=1)
    f.write('\n')
