"""Pictures of a learned energy over a 2D action plane, for debugging EBMs."""
from typing import Optional, Sequence, Tuple

from absl import logging
import gin
from matplotlib import figure as matplotlib_figure
import numpy as np
import tensorflow as tf
from tf_agents.environments import wrappers
from tf_agents.typing import types

import environments


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
                    marked_actions: Sequence[Tuple[np.ndarray, str, str]] = ()
                    ) -> None:
  """Writes the scores as a heat map over the action box, actions marked.

  Args:
    path: PNG file to write.
    scores: [H, W] from `score_grid` (row 0 the largest second coordinate).
    low, high: the action box the grid covers [2].
    marked_actions: (action [2], colour, label) triples, e.g. the
      demonstrated action in white and the chosen one in red.
  """
  figure = matplotlib_figure.Figure(figsize=(5.2, 4.2), dpi=100)
  axes = figure.subplots()
  image = axes.imshow(scores, extent=(low[0], high[0], low[1], high[1]),
                      origin='upper', aspect='auto', cmap='viridis')
  figure.colorbar(image, ax=axes, label='score (higher: lower energy)')
  for action, colour, label in marked_actions:
    axes.scatter([action[0]], [action[1]], s=120, facecolors='none',
                 edgecolors=colour, linewidths=2, label=label)
  if marked_actions:
    axes.legend(loc='upper right', fontsize=8, facecolor='0.8')
  axes.set_xlabel('action 0')
  axes.set_ylabel('action 1')
  with tf.io.gfile.GFile(path, 'wb') as f:
    figure.savefig(f, format='png', bbox_inches='tight')


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
  marks = [(np.asarray(chosen_action), 'red', 'chosen')]
  if demo_action is not None:
    marks.insert(0, (np.asarray(demo_action), 'white', 'demonstrated'))
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
