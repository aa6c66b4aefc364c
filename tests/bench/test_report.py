"""Markdown section replacement of the benchmark reports."""
import pathlib
import sys

import pytest

_REPO = pathlib.Path(__file__).resolve().parents[2]
if str(_REPO) not in sys.path:  # bench/ runs from the checkout, not installed
  sys.path.insert(0, str(_REPO))
from bench import report  # pylint: disable=wrong-import-position


HAND_MADE = """# Benchmarks

## Comparison: PARTICLE

old table

### Notes

old notes

## Comparison: PARTICLE_3D

other task

# Appendix
"""
NEW_SECTION = '## Comparison: PARTICLE\n\nnew table\n'


@pytest.mark.parametrize('markdown, expected', [
    (HAND_MADE, HAND_MADE.replace(
        'old table\n\n### Notes\n\nold notes\n', 'new table\n')),
    ('# Benchmarks\n\n## Quickstart\n\nq\n\n',
     '# Benchmarks\n\n## Quickstart\n\nq\n\n' + NEW_SECTION),
    ('', NEW_SECTION),
    ('## Comparison: PARTICLE\n\nold table', NEW_SECTION),
], ids=['between_sections', 'appended', 'empty_file', 'last_section'])
def test_replace_section_replaces_only_its_own_section(markdown, expected):
  replaced = report.replace_section(markdown, '## Comparison: PARTICLE',
                                     NEW_SECTION + '\n')
  assert replaced == expected
