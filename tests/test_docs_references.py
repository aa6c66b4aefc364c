"""Every mention of a docs/benchmarks.md section in the code, configs and
docs names a section that exists, so that a reader who follows it finds it.

Mentions of a past version (`git show COMMIT:docs/benchmarks.md`) are left
out: they name sections git keeps.
"""
import glob
import pathlib
import re

import pytest

_REPO = pathlib.Path(__file__).resolve().parents[1]
_MENTION = re.compile(
    r'(git show \S+:)?docs/benchmarks\.md`?,?\s*(?:section\s*)?"([^"]+)"')
_SOURCES = ('gin_configs/**/*.gin', 'ibc_agents/**/*.py',
            'environments/**/*.py', 'data_tools/**/*.py', 'bench/**/*.py',
            'README.md', 'docs/*.md')


def _headings() -> list[str]:
  text = (_REPO / 'docs' / 'benchmarks.md').read_text()
  return [line.lstrip('#').strip() for line in text.splitlines()
          if line.startswith('#')]


def _mentions() -> list[tuple[str, str]]:
  """(file, the section it names) for every present-tense mention."""
  found = []
  for pattern in _SOURCES:
    for path in sorted(glob.glob(str(_REPO / pattern), recursive=True)):
      # Comments wrap: read each file as one line, comment marks removed.
      text = ' '.join(line.strip().lstrip('#').strip()
                      for line in pathlib.Path(path).read_text().splitlines())
      for historical, section in _MENTION.findall(text):
        if not historical:
          found.append((str(pathlib.Path(path).relative_to(_REPO)), section))
  return found


def test_the_docs_are_mentioned_somewhere():
  assert len(_mentions()) > 5


@pytest.mark.parametrize('source, section', _mentions())
def test_mentioned_section_exists(source, section):
  headings = _headings()
  assert any(heading.startswith(section) for heading in headings), (
      f'{source} names docs/benchmarks.md section "{section}", which does '
      'not exist')


def _links() -> list[tuple[str, str]]:
  """(file, anchor) of every link into docs/benchmarks.md's sections."""
  found = []
  for path in [_REPO / 'README.md', *sorted((_REPO / 'docs').glob('*.md'))]:
    for anchor in re.findall(r'benchmarks\.md#([\w\-]+)', path.read_text()):
      found.append((str(path.relative_to(_REPO)), anchor))
  return found


@pytest.mark.parametrize('source, anchor', _links())
def test_linked_section_exists(source, anchor):
  from bench import results_tables  # pylint: disable=g-import-not-at-top
  anchors = {results_tables.anchor(heading) for heading in _headings()}
  assert anchor in anchors, (
      f'{source} links to docs/benchmarks.md#{anchor}, which no heading has')
