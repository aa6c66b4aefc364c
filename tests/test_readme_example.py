"""The README's own-pipeline example runs as printed."""
import os
import re
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
README = os.path.join(ROOT, 'README.md')
HEADING = '## Use it in your own TF-Agents pipeline'


def _example() -> str:
  with open(README) as f:
    text = f.read()
  section = text[text.index(HEADING):]
  return re.search(r'```python\n(.*?)```', section, re.DOTALL).group(1)


def test_readme_pipeline_example_trains_exports_and_acts(tmp_path):
  script = tmp_path / 'pipeline.py'
  script.write_text(_example())
  done = subprocess.run(
      [sys.executable, str(script)], cwd=tmp_path, capture_output=True,
      text=True, check=False, env=dict(
          os.environ, TF_CPP_MIN_LOG_LEVEL='2',
          PYTHONPATH=os.pathsep.join([ROOT, os.environ.get('PYTHONPATH', '')])))
  assert done.returncode == 0, done.stderr[-3000:]
  assert 'trained 300 steps' in done.stdout
  action = float(re.search(r'action \[(\S+)\]', done.stdout).group(1))
  assert -2.0 <= action <= 2.0
  assert (tmp_path / 'runs' / 'pendulum' / 'policy' / 'saved_model.pb'
          ).exists()
