"""An xArm6 holding a vertical cylinder, moved in the plane through IK."""
import os

import numpy as np
import pybullet
import pybullet_data
from pybullet_utils import bullet_client

ASSETS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'assets')
XARM_URDF = os.path.join(pybullet_data.getDataPath(), 'xarm',
                         'xarm6_robot.urdf')
EFFECTOR_URDF = os.path.join(ASSETS_DIR, 'effector.urdf')

EFFECTOR_LENGTH = 0.1  # m, see assets/effector.urdf
EFFECTOR_RADIUS = 0.01  # m
_FLANGE_LINK = 6  # link6, the xArm's tool flange
_ARM_JOINTS = (1, 2, 3, 4, 5, 6)  # joint 0 fixes the base to the world
_JOINT_FORCES = (50.0, 50.0, 32.0, 32.0, 32.0, 20.0)  # N m, the URDF limits
_POSITION_GAIN = 0.3  # of pybullet's position motors (default 0.1: sluggish)
# Elbow-up, flange-down configuration from which every reset starts the IK,
# so that a reset does not depend on where the last episode left the arm.
_HOME_JOINTS = (0.0, -0.3, -1.2, 0.0, 1.5, 0.0)
# Enough for the IK to converge to < 1 mm: with fewer iterations it stops
# part of the way and the arm lags the target by centimetres.
_IK_ITERATIONS = 100
_IK_RESIDUAL = 1e-5  # m
# pybullet's IK can stop short near the base; restarting it from its own
# answer converges (3 rounds: < 0.2 mm everywhere in the workspace).
_RESET_IK_ROUNDS = 3
_CONSTRAINT_FORCE = 1000.0  # N, holds the effector rigidly to the flange


class XArmPusher:
  """The xArm6 of `pybullet_data` with a cylindrical effector pointing down.

  The effector tip is kept at `tip_height` above the table; `move_to` drives
  it to a planar target with joint position targets from inverse
  kinematics, stepping the physics (and so the whole scene).
  """

  def __init__(self, client: bullet_client.BulletClient, tip_height: float):
    self._client = client
    self._flange_height = tip_height + EFFECTOR_LENGTH
    self._flange_down = client.getQuaternionFromEuler([np.pi, 0.0, 0.0])
    self.robot_id = client.loadURDF(XARM_URDF, useFixedBase=True)
    self.effector_id = client.loadURDF(EFFECTOR_URDF)
    # Constraint frames are relative to the centres of mass, not link frames.
    flange_com = client.getDynamicsInfo(self.robot_id, _FLANGE_LINK)[3:5]
    offset, offset_orientation = client.multiplyTransforms(
        *client.invertTransform(*flange_com),
        [0.0, 0.0, EFFECTOR_LENGTH / 2], [0.0, 0.0, 0.0, 1.0])
    constraint = client.createConstraint(
        self.robot_id, _FLANGE_LINK, self.effector_id, -1,
        pybullet.JOINT_FIXED, [0.0, 0.0, 0.0], offset, [0.0, 0.0, 0.0],
        parentFrameOrientation=offset_orientation)
    client.changeConstraint(constraint, maxForce=_CONSTRAINT_FORCE)
    client.setCollisionFilterPair(self.robot_id, self.effector_id,
                                  _FLANGE_LINK, -1, 0)
    self._joint_targets = np.array(_HOME_JOINTS)

  def reset(self, tip_xy: np.ndarray) -> None:
    """Places the arm at rest with the tip at `tip_xy` (no physics step)."""
    joints = _HOME_JOINTS
    for _ in range(_RESET_IK_ROUNDS):
      for joint, position in zip(_ARM_JOINTS, joints):
        self._client.resetJointState(self.robot_id, joint, position)
      joints = self._solve_ik(tip_xy)
    for joint, position in zip(_ARM_JOINTS, joints):
      self._client.resetJointState(self.robot_id, joint, position)
    flange = self._client.getLinkState(
        self.robot_id, _FLANGE_LINK, computeForwardKinematics=True)
    position, orientation = self._client.multiplyTransforms(
        flange[4], flange[5], [0.0, 0.0, EFFECTOR_LENGTH / 2],
        [0.0, 0.0, 0.0, 1.0])
    self._client.resetBasePositionAndOrientation(
        self.effector_id, position, orientation)
    self._client.resetBaseVelocity(self.effector_id, [0.0] * 3, [0.0] * 3)
    self._command(joints)

  def move_to(self, tip_xy: np.ndarray, num_substeps: int) -> None:
    """Moves the tip to `tip_xy` over `num_substeps` physics steps.

    The joint targets go from the last command to the IK solution in equal
    increments, one per physics step, so the tip moves at a steady speed; a
    single jump of the targets would make it dash and stop, kicking blocks.
    """
    start = self._joint_targets
    goal = np.asarray(self._solve_ik(tip_xy))
    for substep in range(1, num_substeps + 1):
      self._command(start + (goal - start) * (substep / num_substeps))
      self._client.stepSimulation()

  def tip_xy(self) -> np.ndarray:
    """The effector's planar position [2] (its axis stays vertical)."""
    position, _ = self._client.getBasePositionAndOrientation(self.effector_id)
    return np.array(position[:2])

  def _solve_ik(self, tip_xy: np.ndarray) -> tuple:
    return self._client.calculateInverseKinematics(
        self.robot_id, _FLANGE_LINK,
        [tip_xy[0], tip_xy[1], self._flange_height], self._flange_down,
        maxNumIterations=_IK_ITERATIONS, residualThreshold=_IK_RESIDUAL)

  def _command(self, joints: np.ndarray) -> None:
    self._joint_targets = np.asarray(joints)
    self._client.setJointMotorControlArray(
        self.robot_id, _ARM_JOINTS, pybullet.POSITION_CONTROL,
        targetPositions=joints, forces=_JOINT_FORCES,
        positionGains=[_POSITION_GAIN] * len(_ARM_JOINTS))
