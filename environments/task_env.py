"""The environment contract every registered task implements.

Collection, training, evaluation and the benchmarks rely on this and nothing
else, whatever the simulator:

- `observation_spec()` and `action_spec()` are fixed at construction; the
  action spec is a bounded rank-1 float32 spec.
- `seed(seed)` restarts the episode sequence from `seed`, effective at the
  next reset: the same seed gives the same episodes (None: from the OS).
- `get_info()` returns `{'success': np.bool_}`: whether the task is complete
  after the last step. Success rates are read from it. A task may add other
  booleans (PUSH_MULTIMODAL's p1 and p2); evaluation reports their rates.
- `render('rgb_array')` returns a uint8 [H, W, 3] image for tasks that have
  a camera; the others keep `PyEnvironment`'s, which renders nothing.
- `close()` releases the simulator; calling it again does nothing.
"""
from typing import Any, Dict, Optional

import numpy as np
from tf_agents.environments import py_environment
from tf_agents.specs import array_spec
from tf_agents.typing import types


class TaskEnv(py_environment.PyEnvironment):
  """A task: specs, seeding and success as the module docstring states.

  Subclasses call `super().__init__` once their specs are known, draw every
  random choice from `self._rng` and set `self._success` on each step (and
  reset it on `_reset`).
  """

  def __init__(self, observation_spec: types.NestedArraySpec,
               action_spec: array_spec.BoundedArraySpec,
               seed: Optional[int] = None):
    super().__init__()
    self._observation_spec = observation_spec
    self._action_spec = action_spec
    self._success = False
    self.seed(seed)

  def observation_spec(self) -> types.NestedArraySpec:
    return self._observation_spec

  def action_spec(self) -> array_spec.BoundedArraySpec:
    return self._action_spec

  def seed(self, seed: Optional[int]) -> Any:
    """Restarts the episode sequence from `seed` (takes effect on reset)."""
    self._rng = np.random.default_rng(seed)

  def get_info(self) -> Dict[str, np.bool_]:
    """Returns {'success': whether the task is complete after the last step}."""
    return {'success': np.bool_(self._success)}
