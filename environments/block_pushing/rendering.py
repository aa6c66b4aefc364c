"""Offscreen camera images of a pybullet scene (CPU TinyRenderer, no window)."""
import dataclasses
from typing import Tuple

import numpy as np
import pybullet
from pybullet_utils import bullet_client


@dataclasses.dataclass(frozen=True)
class Camera:
  """A pinhole camera at `eye` looking at `target`; metres and degrees.

  The default is the original implementation's (`block_pushing.py`,
  `DEFAULT_CAMERA_POSE = (1, 0, 0.75)`, `DEFAULT_CAMERA_ORIENTATION =
  (pi/4, pi, -pi/2)`, focal length 0.803 x the image width at 320 x 240):
  from beyond the far edge of the workspace, 45 degrees down towards the
  robot, with a 50.07 degree vertical field of view.
  """
  eye: Tuple[float, float, float] = (1.0, 0.0, 0.75)
  target: Tuple[float, float, float] = (1.0 - 0.5**0.5, 0.0, 0.75 - 0.5**0.5)
  up: Tuple[float, float, float] = (0.0, 0.0, 1.0)
  fov: float = 50.07  # vertical field of view
  near: float = 0.01
  far: float = 5.0


def render_rgb(client: bullet_client.BulletClient, camera: Camera,
               width: int, height: int) -> np.ndarray:
  """Renders the scene as seen by `camera`; returns uint8 [height, width, 3]."""
  view = client.computeViewMatrix(camera.eye, camera.target, camera.up)
  projection = client.computeProjectionMatrixFOV(
      fov=camera.fov, aspect=width / height, nearVal=camera.near,
      farVal=camera.far)
  _, _, rgba, _, _ = client.getCameraImage(
      width, height, viewMatrix=view, projectionMatrix=projection,
      renderer=pybullet.ER_TINY_RENDERER)
  return np.asarray(rgba, np.uint8).reshape(height, width, 4)[..., :3]
