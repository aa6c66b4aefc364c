"""Every gin parameter a parsed configuration exposes, with its doc line.

gin has no public listing of its configurables; `_REGISTRY` is read here
only (gin-config 0.5, the range setup.py states).
"""
import dataclasses
import inspect
import re
from typing import Any, Callable, List, Sequence

import gin

_PROJECT_PACKAGES = ('ibc_agents', 'environments', 'data_tools')
_UNBOUND = object()


@dataclasses.dataclass(frozen=True)
class Parameter:
  """A configurable's parameter: `name` as gin spells it, e.g. `MLPEBM.width`."""
  name: str
  default: Any
  bound: Any  # the configuration's value; `_UNBOUND` when not set
  doc: str

  def line(self) -> str:
    """`name = value  # doc (default: ...)`, as a gin binding would read."""
    value = _gin_text(self.default if self.bound is _UNBOUND else self.bound)
    comment = [self.doc] if self.doc else []
    if value != _gin_text(self.default):
      comment.append(f'(default: {_gin_text(self.default)})')
    return f'{self.name} = {value}' + (
        f'  # {" ".join(comment)}' if comment else '')


def _gin_text(value: Any) -> str:
  if isinstance(value, gin.config.ConfigurableReference):
    return str(value)
  if callable(value) and hasattr(value, '__name__'):
    return f'@{value.__name__}'
  if not isinstance(value, (type(None), bool, int, float, str, tuple, list,
                            dict)):
    return f'<a {type(value).__name__}>'
  return repr(value)


def _doc_lines(function: Callable[..., Any]) -> dict[str, str]:
  """{argument: its description's first sentence}, from Args (or Attributes)."""
  doc = inspect.getdoc(function) or ''
  match = re.search(r'^(?:Args|Attributes):\n((?:[ \t]+.*\n?|\n)+)', doc, re.M)
  lines = {}
  for entry in re.finditer(r'^ {2}(\w+)(?: \([^)]*\))?: (.*(?:\n {4,}.*)*)',
                           match.group(1) if match else '', re.M):
    text = ' '.join(entry.group(2).split())
    lines[entry.group(1)] = re.split(r'(?<=\.)\s', text, maxsplit=1)[0]
  return lines


def parameters(packages: Sequence[str] = _PROJECT_PACKAGES
               ) -> List[Parameter]:
  """The parameters of every configurable registered by `packages`' modules.

  Parameters without a default that the configuration leaves unbound are
  left out: the code that builds the object passes them (specs, networks).
  """
  found = []
  for _, configurable in sorted(gin.config._REGISTRY.items(),  # pylint: disable=protected-access
                                key=lambda item: item[1].name):
    module = getattr(configurable.wrapped, '__module__', '') or ''
    if not module.startswith(tuple(f'{p}.' for p in packages)):
      continue
    target = configurable.wrapped
    function = target.__init__ if inspect.isclass(target) else target
    docs = _doc_lines(function) or _doc_lines(target)
    try:
      signature = inspect.signature(function)
    except (TypeError, ValueError):
      continue
    for argument in signature.parameters.values():
      if (argument.name in ('self', 'name') or argument.kind in (
          argument.VAR_POSITIONAL, argument.VAR_KEYWORD) or
          not _configurable(configurable, argument.name)):
        continue
      selector = f'{configurable.name}.{argument.name}'
      bound = _bound(selector)
      if argument.default is argument.empty and bound is _UNBOUND:
        continue  # passed by the code that builds it (specs, networks)
      found.append(Parameter(selector, argument.default, bound,
                             docs.get(argument.name, '')))
  return found


def _configurable(configurable, argument: str) -> bool:
  if configurable.allowlist:
    return argument in configurable.allowlist
  return argument not in (configurable.denylist or ())


def _bound(selector: str) -> Any:
  try:
    return gin.query_parameter(selector)
  except ValueError:
    return _UNBOUND
