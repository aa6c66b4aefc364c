"""Offscreen camera images of a pybullet scene (CPU TinyRenderer, no window)."""
import dataclasses
from typing import Tuple

import numpy as np
import pybullet
from pybullet_utils import bullet_client


@dataclasses.dataclass(frozen=True)
class Camera:
  """A pinhole camera at `eye` looking at `target`; metres and degrees.

  The default looks from beyond the far edge of the workspace back at the
  robot, from above: the arm reaches in from behind the effector, so it hides
  little of the blocks and targets, and the workspace fills the width.
  """
  eye: Tuple[float, float, float] = (0.9, 0.0, 0.7)
  target: Tuple[float, float, float] = (0.38, 0.0, 0.05)
  up: Tuple[float, float, float] = (0.0, 0.0, 1.0)
  fov: float = 35.0  # vertical field of view
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
