"""Animated GIFs of policy episodes, to watch what a policy does."""
from typing import List, Sequence

import gin
import numpy as np
from PIL import Image
import tensorflow as tf
from tf_agents.environments import py_environment
from tf_agents.environments import wrappers
from tf_agents.policies import py_policy
from tf_agents.utils import nest_utils

import environments


def episode_frames(policy: py_policy.PyPolicy,
                   env: py_environment.PyEnvironment) -> List[np.ndarray]:
  """Runs one episode; returns `env.render()` after the reset and each step.

  Args:
    policy: a batched policy, as evaluation uses (e.g. `PyTFEagerPolicy`);
      it acts on a batch of one time step.
    env: an unbatched environment that renders RGB arrays.
  """
  time_step = env.reset()
  policy_state = policy.get_initial_state(batch_size=1)
  frames = [env.render()]
  while not time_step.is_last():
    action_step = policy.action(nest_utils.batch_nested_array(time_step),
                                policy_state)
    time_step = env.step(nest_utils.unbatch_nested_array(action_step.action))
    policy_state = action_step.state
    frames.append(env.render())
  return frames


def write_gif(path: str, frames: Sequence[np.ndarray],
              frame_duration_ms: int = 100) -> None:
  """Writes uint8 frames [H, W, 3] as a looping animated GIF."""
  if not frames:
    raise ValueError(f'No frames to write to {path}.')
  images = [Image.fromarray(frame) for frame in frames]
  # Unoptimised palettes: Pillow's optimised ones can leave an index past the
  # palette's end, which strict decoders (tf.io.decode_image) refuse.
  with tf.io.gfile.GFile(path, 'wb') as f:
    images[0].save(f, format='GIF', save_all=True, append_images=images[1:],
                   duration=frame_duration_ms, loop=0, optimize=False)


@gin.configurable
def write_episode_gif(path: str, policy: py_policy.PyPolicy, task: str,
                      history_length: int, seed: int,
                      frame_duration_ms: int = 100) -> None:
  """Writes a GIF of one episode of `policy` in the task's environment.

  The signature is `train_eval`'s `eval_video_fn`: after each evaluation it
  films the episode of the first evaluation seed.

  Args:
    path: GIF file to write.
    policy: a batched policy (see `episode_frames`).
    task: registered task name; its environment must render RGB arrays.
    history_length: observations the policy expects stacked.
    seed: seed of the environment.
    frame_duration_ms: display time of each frame; 100 plays a 10 Hz task in
      real time.
  """
  env = wrappers.HistoryWrapper(environments.make(task, seed=seed),
                                history_length=history_length,
                                tile_first_step_obs=True)
  try:
    frames = episode_frames(policy, env)
  finally:
    env.close()
  write_gif(path, frames, frame_duration_ms)
