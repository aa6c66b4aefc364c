"""Pictures of a learned energy over a 2D action plane, for debugging EBMs."""
from typing import Optional, Sequence

from absl import logging
import gin
import numpy as np
from PIL import Image
from PIL import ImageDraw
import tensorflow as tf
from tf_agents.environments import wrappers
from tf_agents.typing import types

import environments

# Dark blue (low score, high energy) through teal and green to yellow (best).
_PALETTE = np.array([[68, 1, 84], [59, 82, 139], [33, 145, 140],
                     [94, 201, 98], [253, 231, 37]], np.float64)


def _colorize(values: np.ndarray) -> np.ndarray:
  """Maps values [H, W] in [0, 1] to RGB [H, W, 3] along the palette."""
  position = np.clip(values, 0.0, 1.0) * (len(_PALETTE) - 1)
  lower = np.floor(position).astype(int)
  upper = np.minimum(lower + 1, len(_PALETTE) - 1)
  fraction = (position - lower)[..., None]
  return (_PALETTE[lower] * (1 - fraction) + _PALETTE[upper] * fraction
          ).astype(np.uint8)


def score_grid(score_fn, low: np.ndarray, high: np.ndarray,
               resolution: int = 128) -> np.ndarray:
  """Scores [resolution, resolution] of a grid over the action box [low, high].

  `score_fn` maps actions [1, N, 2] to scores [1, N]. Row 0 is the top
  (largest second coordinate), as in an image.
  """
  xs = np.linspace(low[0], high[0], resolution)
  ys = np.linspace(high[1], low[1], resolution)
  grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(1, -1, 2)
  scores = score_fn(tf.constant(grid, tf.float32))
  return np.asarray(scores).reshape(resolution, resolution)


def save_energy_png(path: str, scores: np.ndarray, low: np.ndarray,
                    high: np.ndarray,
                    marked_actions: Sequence[tuple[np.ndarray, str]] = (),
                    scale: int = 3) -> None:
  """Writes the scores as a heat map with actions marked as coloured rings.

  Args:
    path: PNG file to write.
    scores: [H, W] from `score_grid`.
    low, high: the action box the grid covers [2].
    marked_actions: (action [2], colour name) pairs, e.g. the demonstrated
      action in 'white' and the chosen one in 'red'.
    scale: pixels per grid cell.
  """
  span = scores.max() - scores.min()
  normalized = (scores - scores.min()) / (span if span > 0 else 1.0)
  image = Image.fromarray(_colorize(normalized)).resize(
      (scores.shape[1] * scale, scores.shape[0] * scale), Image.NEAREST)
  draw = ImageDraw.Draw(image)
  width, height = image.size
  for index, (action, colour) in enumerate(marked_actions):
    u = (action[0] - low[0]) / (high[0] - low[0]) * (width - 1)
    v = (high[1] - action[1]) / (high[1] - low[1]) * (height - 1)
    radius = 10 - 4 * min(index, 1)  # later marks inside earlier ones
    draw.ellipse([u - radius, v - radius, u + radius, v + radius],
                 outline=colour, width=2)
  with tf.io.gfile.GFile(path, 'wb') as f:
    image.save(f, format='PNG')


def policy_energy_png(path: str, agent, observation: types.NestedArray,
                      demo_action: Optional[np.ndarray],
                      chosen_action: np.ndarray) -> None:
  """Draws `agent`'s learned scores over its 2D action box for one observation.

  Args:
    path: PNG file to write.
    agent: an `ImplicitBCAgent` with a 2D action.
    observation: one policy observation (unbatched, with history).
    demo_action: the demonstrator's action there (environment units), or None.
    chosen_action: the policy's action there (environment units).
  """
  normalizer = agent.action_normalizer
  normalized_observation = tf.nest.map_structure(
      lambda x: tf.constant(x)[None], observation)
  if agent.observation_normalizer is not None:
    normalized_observation = agent.observation_normalizer(
        normalized_observation)

  def score_fn(actions):
    return agent.policy_network(
        (normalized_observation, normalizer.normalize(actions)))[0]

  low, high = normalizer.low.numpy(), normalizer.high.numpy()
  marks = [(np.asarray(chosen_action), 'red')]
  if demo_action is not None:
    marks.insert(0, (np.asarray(demo_action), 'white'))
  save_energy_png(path, score_grid(score_fn, low, high), low, high, marks)


@gin.configurable
def plot_oracle_state(path: str, agent, task: str, history_length: int,
                      seed: int, num_oracle_steps: int = 20) -> None:
  """Draws the energy where the task's oracle is after `num_oracle_steps`.

  The demonstrated action there is marked white and the policy's choice red;
  the default step count lands near the particle's first goal, where the
  oracle switches targets (after about 23 steps at 20 Hz). Tasks whose action is not 2D are skipped with a
  log line, so one config serves the N-D particle study.
  """
  raw_env = environments.make(task, seed=seed)
  action_shape = raw_env.action_spec().shape
  if action_shape != (2,):
    logging.info('Energy plot skipped: the action shape is %s, not (2,).',
                 action_shape)
    raw_env.close()
    return
  oracle = environments.make_oracle(task, raw_env)
  env = wrappers.HistoryWrapper(raw_env, history_length=history_length,
                                tile_first_step_obs=True)
  time_step = env.reset()
  for _ in range(num_oracle_steps):
    next_time_step = env.step(oracle.action(raw_env.current_time_step()).action)
    if next_time_step.is_last():
      break
    time_step = next_time_step
  demo_action = oracle.action(raw_env.current_time_step()).action
  chosen = agent.policy.action(
      tf.nest.map_structure(lambda x: tf.constant(x)[None], time_step),
      agent.policy.get_initial_state(1)).action[0].numpy()
  policy_energy_png(path, agent, time_step.observation, demo_action, chosen)
