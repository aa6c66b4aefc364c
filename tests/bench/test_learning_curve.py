"""`python -m bench.learning_curve` on a tiny real run."""
import os
import pathlib
import re
import subprocess
import sys

from PIL import Image
import pytest

from bench import learning_curve

_REPO = pathlib.Path(__file__).resolve().parents[2]  # bench/ is not installed


def test_curve_has_the_runs_evaluation_after_its_start(tiny_run):
  points = learning_curve.curve(tiny_run)
  assert len(points) == 1  # one evaluation, at step 20
  minutes, success = points[0]
  assert 0.0 < minutes < 30.0
  assert 0.0 <= success <= 1.0


def test_command_draws_one_line_per_run(tiny_run, tmp_path):
  output = tmp_path / 'curve.png'
  completed = subprocess.run(
      [sys.executable, '-m', 'bench.learning_curve', f'--run=A={tiny_run}',
       f'--run=B={tiny_run}', f'--output={output}'],
      cwd=_REPO, capture_output=True, text=True, timeout=300,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'))
  assert completed.returncode == 0, completed.stderr[-3000:]
  assert re.search(r'^learning_curve: A: \d+\.\d min \d\.\d\d$',
                   completed.stdout, re.MULTILINE), completed.stdout
  width, height = Image.open(output).size
  assert width > 500 and height > 300


def test_run_without_training_summaries_is_refused(tmp_path):
  with pytest.raises(ValueError, match='no training summaries'):
    learning_curve.first_summary_time(str(tmp_path))
