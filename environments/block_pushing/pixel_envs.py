"""Block pushing seen through a camera: PUSH_PIXELS, PUSH_DISCONTINUOUS_PIXELS.

The tasks, layouts, dynamics and success tests are those of PUSH and
PUSH_DISCONTINUOUS; only the observation differs. It is

  {'rgb': uint8 [image_height, image_width, 3],
   'effector_translation': float32 [2]}

an offscreen image of the scene (pybullet's CPU renderer, the camera of
`render`) and, beside it, where the effector tip is: the one low-dimensional
input the policy keeps. The simulator state stays available through
`state()`, which the oracles act on (`oracles.EnvStateOracle`).
"""
from typing import Any, Dict

import gin
import numpy as np
from tf_agents.specs import array_spec

from environments.block_pushing import block_pushing_env
from environments.block_pushing import multi_target_envs
from environments.block_pushing import rendering

IMAGE_KEY = 'rgb'
LOW_DIMENSIONAL_KEYS = ('effector_translation',)


@gin.configurable
class PixelObservations:
  """Mixin for a `BlockPushingEnv` task: observe a camera image, not the state.

  List it before the task class (`class PushPixelsEnv(PixelObservations,
  PushEnv)`); everything but the observation stays the task's own.
  """

  def __init__(self, *args: Any, image_width: int = 320,
               image_height: int = 240, **kwargs: Any):
    """Args of the task class, plus:

    Args:
      image_width: Width in pixels of the observed image (the original's
        `IMAGE_WIDTH`; the CPU configurations bind 120).
      image_height: Height in pixels of the observed image (the original's
        `IMAGE_HEIGHT`; the CPU configurations bind 90).
    """
    if image_width < 1 or image_height < 1:
      raise ValueError('image_width and image_height must be >= 1, got '
                       f'{image_width} and {image_height}.')
    self._image_size = (image_width, image_height)
    super().__init__(*args, **kwargs)

  def _make_observation_spec(self) -> Dict[str, array_spec.ArraySpec]:
    width, height = self._image_size
    spec = {IMAGE_KEY: array_spec.ArraySpec((height, width, 3), np.uint8,
                                            name=IMAGE_KEY)}
    spec.update({key: self._state_spec[key] for key in LOW_DIMENSIONAL_KEYS})
    return spec

  def _observation(self, state: Dict[str, np.ndarray]
                   ) -> Dict[str, np.ndarray]:
    observation = {IMAGE_KEY: rendering.render_rgb(
        self._client, self._camera, *self._image_size)}
    observation.update({key: state[key] for key in LOW_DIMENSIONAL_KEYS})
    return observation


@gin.configurable
class PushPixelsEnv(PixelObservations, block_pushing_env.PushEnv):
  """PUSH_PIXELS: PUSH observed through the camera."""


@gin.configurable
class PushDiscontinuousPixelsEnv(PixelObservations,
                                 multi_target_envs.PushDiscontinuousEnv):
  """PUSH_DISCONTINUOUS_PIXELS: PUSH_DISCONTINUOUS observed through the camera."""
