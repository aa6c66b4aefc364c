"""N-dimensional particle task: reach the first goal, then the second.

The agent is a point mass in the unit hypercube. Each action is a position
target that a PD controller tracks for a few physics substeps. The task is the
particle benchmark of Implicit Behavioral Cloning (Florence et al., 2021),
defined as the original implementation's `environments/particle/particle.py`
defines it (cited below as "original"): the policy has to visit two goals in
order, which makes the demonstrations multimodal and discontinuous at the
moment the first goal is reached.
"""
from typing import Dict, Optional, Tuple

import gin
import numpy as np
from tf_agents.specs import array_spec
from tf_agents.trajectories import time_step as ts

from environments import task_env

_GREEN = np.array([0, 170, 0], dtype=np.uint8)
_BLUE = np.array([0, 60, 230], dtype=np.uint8)
_BLACK = np.array([0, 0, 0], dtype=np.uint8)
_AGENT_RADIUS_PX = 3.0
_MAX_RESET_ATTEMPTS = 1000
# Original: `vel_agent` is observed in a Box(-1e2, 1e2).
_VELOCITY_BOUND = 100.0


def _composed_substeps(kp: float, kv: float, dt: float,
                       substeps: int) -> Tuple[np.ndarray, np.ndarray]:
  """Composes `substeps` explicit Euler PD steps into one affine map.

  One substep on (position x, velocity v) towards target t is the original's
  `_internal_step`: u = kp * (t - x) - kv * v, then x' = x + dt * v and
  v' = v + dt * u, both from the old (x, v). It is linear in (x, v, t), so
  composing it is exact and turns the substep loop into one update.

  Returns:
    (dynamics [2, 2], target_gain [2, 1]) with
    [x', v'] = dynamics @ [x, v] + target_gain * t after all substeps.
  """
  one = np.array([[1.0, dt, 0.0],
                  [-dt * kp, 1.0 - dt * kv, dt * kp],
                  [0.0, 0.0, 1.0]])
  composed = np.linalg.matrix_power(one, substeps)
  return composed[:2, :2].copy(), composed[:2, 2:].copy()


@gin.configurable
class ParticleEnv(task_env.TaskEnv):
  """Point mass that must reach a green goal and then a blue goal.

  Observations are a dict of float32 arrays [n_dim]: `pos_agent`, `vel_agent`,
  `pos_first_goal` and `pos_second_goal` (the original's keys). Actions
  [n_dim] in [0, 1] are the PD controller's position target (clipped to the
  cube; the original applies them unclipped, and its policies keep to the
  action bounds). As in the original, every episode runs `max_steps` steps and ends with discount 0;
  the task is complete (`get_info()['success']`, the original's `succeeded`)
  when the particle has come within `goal_tolerance` of the first goal and
  of the second goal at some control step, and is within it of the second
  goal now. The reward is the original's: 1 on the last step if both goals
  were reached, else 0.

  `end_on_success` and `min_separation` make variants that are not the
  original's: episodes that end on the step that completes the task (reward
  1, discount 0), and start and goals kept apart.
  """

  def __init__(self,
               n_dim: int = 2,
               max_steps: int = 50,
               goal_tolerance: float = 0.05,
               min_separation: float = 0.0,
               kp: float = 10.0,
               kv: float = 5.0,
               dt: float = 0.005,
               substeps: int = 10,
               render_size: int = 128,
               end_on_success: bool = False,
               seed: Optional[int] = None):
    """Creates the environment.

    Defaults are the original's (`ParticleEnv.__init__`): `n_steps = 50`,
    `goal_distance = 0.05`, `k_p = 10`, `k_v = 5`, `dt = 0.005` (200 Hz) and
    `repeat_actions = 10` (control at 20 Hz); start and goals uniform in the
    unit cube (`reset`).

    Args:
      n_dim: Dimension of the space the particle moves in.
      max_steps: Steps in an episode (ended earlier only by `end_on_success`).
      goal_tolerance: Distance within which a goal counts as reached.
      min_separation: Minimum distance between the start and both goals
        (variant; the original draws them independently).
      kp: Proportional gain of the PD controller.
      kv: Derivative (velocity damping) gain of the PD controller.
      dt: Physics time step in seconds.
      substeps: Physics steps per environment step.
      render_size: Side in pixels of the image `render` returns.
      end_on_success: End the episode on the step that completes the task
        (variant).
      seed: Seed of the episode sequence; None draws one from the OS.

    Raises:
      ValueError: If an argument is out of its valid range.
    """
    if n_dim < 1 or max_steps < 1 or substeps < 1:
      raise ValueError('n_dim, max_steps and substeps must be >= 1, got '
                       f'{n_dim}, {max_steps}, {substeps}.')
    if goal_tolerance <= 0.0 or min_separation < 0.0:
      raise ValueError('Need goal_tolerance > 0 and min_separation >= 0, got '
                       f'{goal_tolerance} and {min_separation}.')
    if kp <= 0.0 or kv <= 0.0 or dt <= 0.0:
      raise ValueError(f'kp, kv and dt must be > 0, got {kp}, {kv}, {dt}.')
    self._n_dim = n_dim
    self._max_steps = max_steps
    self._goal_tolerance = goal_tolerance
    self._min_separation = min_separation
    self._render_size = render_size
    self._end_on_success = end_on_success
    self._dynamics, self._target_gain = _composed_substeps(
        kp, kv, dt, substeps)

    shape = (n_dim,)
    position = array_spec.BoundedArraySpec(shape, np.float32, 0.0, 1.0)
    observation_spec = {
        'pos_agent': position.replace(name='pos_agent'),
        'vel_agent': array_spec.BoundedArraySpec(
            shape, np.float32, -_VELOCITY_BOUND, _VELOCITY_BOUND,
            name='vel_agent'),
        'pos_first_goal': position.replace(name='pos_first_goal'),
        'pos_second_goal': position.replace(name='pos_second_goal'),
    }
    super().__init__(observation_spec, position.replace(name='action'), seed)

    # Rows: agent position and velocity [2, n_dim].
    self._state = np.zeros((2, n_dim))
    self._first_goal = np.zeros(shape)
    self._second_goal = np.zeros(shape)
    self._goals32 = np.zeros((2, n_dim), np.float32)
    self._num_steps = 0
    self._reached = np.zeros(2, bool)  # first, second goal
    self._success = False
    self._episode_ended = True
    self._pixel_grid = None

  @property
  def n_dim(self) -> int:
    return self._n_dim

  @property
  def max_steps(self) -> int:
    return self._max_steps

  @property
  def goal_tolerance(self) -> float:
    return self._goal_tolerance

  @property
  def reached_goals(self) -> np.ndarray:
    """Whether the first and the second goal were reached this episode [2]."""
    return self._reached.copy()

  def _sample_layout(self) -> np.ndarray:
    """Draws start, first and second goal [3, n_dim] uniformly in the cube."""
    for _ in range(_MAX_RESET_ATTEMPTS):
      points = self._rng.uniform(size=(3, self._n_dim))
      gaps = points[[0, 0, 1]] - points[[1, 2, 2]]
      if np.min(np.einsum('ij,ij->i', gaps, gaps)) >= self._min_separation**2:
        return points
    raise ValueError(
        f'Could not place the start and goals {self._min_separation} apart '
        f'in {self._n_dim} dimensions after {_MAX_RESET_ATTEMPTS} draws.')

  def _observation(self) -> Dict[str, np.ndarray]:
    # Fresh arrays each step: wrappers such as HistoryWrapper keep references.
    agent = self._state.astype(np.float32)
    goals = self._goals32.copy()
    return {
        'pos_agent': agent[0],
        'vel_agent': agent[1],
        'pos_first_goal': goals[0],
        'pos_second_goal': goals[1],
    }

  def _reset(self) -> ts.TimeStep:
    start, self._first_goal, self._second_goal = self._sample_layout()
    self._state = np.stack([start, np.zeros(self._n_dim)])
    self._goals32 = np.stack([self._first_goal,
                              self._second_goal]).astype(np.float32)
    self._num_steps = 0
    self._reached[:] = False
    self._success = False
    self._episode_ended = False
    return ts.TimeStep(ts.StepType.FIRST, np.asarray(0.0, np.float32),
                       np.asarray(1.0, np.float32), self._observation())

  def _step(self, action: np.ndarray) -> ts.TimeStep:
    if self._episode_ended:
      return self.reset()
    target = np.asarray(action, dtype=np.float64)
    if target.shape != (self._n_dim,):
      raise ValueError(f'Expected an action of shape ({self._n_dim},), got '
                       f'{target.shape}.')
    self._state = self._dynamics @ self._state + self._target_gain * np.clip(
        target, 0.0, 1.0)
    self._num_steps += 1

    # Original `_get_reward` and `succeeded`: the closest approach to each goal
    # over the control steps, and the distance to the second goal now.
    gaps = self._state[0] - np.stack([self._first_goal, self._second_goal])
    within = np.einsum('ij,ij->i', gaps, gaps) < self._goal_tolerance**2
    self._reached |= within
    self._success = bool(self._reached.all() and within[1])

    last = self._num_steps >= self._max_steps
    if self._success and self._end_on_success:
      reward, last = 1.0, True
    else:
      reward = 1.0 if last and self._reached.all() else 0.0
    step_type = ts.StepType.LAST if last else ts.StepType.MID
    self._episode_ended = last
    return ts.TimeStep(step_type, np.asarray(reward, np.float32),
                       np.asarray(0.0 if last else 1.0, np.float32),
                       self._observation())

  def render(self, mode: str = 'rgb_array') -> np.ndarray:
    """Draws the first two coordinates from above.

    Goals are discs of radius `goal_tolerance` (first green, second blue), the
    agent a black dot; y points up.

    Returns:
      uint8 image [render_size, render_size, 3].
    """
    if mode != 'rgb_array':
      raise ValueError(f"Only mode='rgb_array' is supported, got {mode!r}.")
    size = self._render_size
    if self._pixel_grid is None:
      centers = (np.arange(size, dtype=np.float32) + 0.5) / size
      self._pixel_grid = (centers[None, :], 1.0 - centers[:, None])
    image = np.full((size, size, 3), 255, dtype=np.uint8)
    goal_radius = self._goal_tolerance
    agent_radius = _AGENT_RADIUS_PX / size
    for point, radius, color in ((self._first_goal, goal_radius, _GREEN),
                                 (self._second_goal, goal_radius, _BLUE),
                                 (self._state[0], agent_radius, _BLACK)):
      image[self._disc(point, radius)] = color
    return image

  def _disc(self, point: np.ndarray, radius: float) -> np.ndarray:
    """Pixel mask [size, size] of a disc around the point's first two axes."""
    x = point[0]
    y = point[1] if self._n_dim > 1 else 0.5
    xs, ys = self._pixel_grid
    return (xs - x)**2 + (ys - y)**2 <= radius**2
