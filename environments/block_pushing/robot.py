"""An xArm6 holding a thin vertical pusher, moved in the plane through IK.

The arm, its control and its tool follow the original implementation's
`environments/utils/xarm_sim_robot.py` (cited as "original robot") and the
tool it loads, `environments/assets/suction/suction-head-long.urdf`
("original tool"): the facts are cited where they are used.
"""
import os

import numpy as np
import pybullet
import pybullet_data
from pybullet_utils import bullet_client

ASSETS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'assets')
XARM_URDF = os.path.join(pybullet_data.getDataPath(), 'xarm',
                         'xarm6_robot.urdf')  # the original robot's arm
EFFECTOR_URDF = os.path.join(ASSETS_DIR, 'effector.urdf')

# Tool geometry, as the original tool (see assets/effector.urdf): a head 3 cm
# long and 1 cm wide (its head.obj mesh) hangs from the flange, and a rod of
# 1 mm radius, 2.8 cm long, centred 2.9 cm below the flange, reaches lowest.
EFFECTOR_LENGTH = 0.029 + 0.028 / 2  # m, flange to the rod's end: 0.043
EFFECTOR_RADIUS = 0.005  # m, the head's (the widest part)
_FLANGE_LINK = 6  # link6, the tool flange (original robot `effector_link`)
# Original robot: motors hold 5 * 240 N m, pybullet's default position and
# velocity gains; the joint targets jump to the IK solution once per step.
_JOINT_FORCE = 5 * 240.0  # N m
# Original robot `inverse_kinematics`: null-space IK with these limits and
# ranges, rest poses (0, 0, current joints 3-6), 100 iterations, 1e-10 m.
_IK_LIMIT = 17.0  # rad
_IK_ITERATIONS = 100
_IK_RESIDUAL = 1e-10  # m
# Original robot: the tool is held to the flange by a fixed constraint of
# at most 50 N (it can give a little when pushing).
_CONSTRAINT_FORCE = 50.0  # N
# The original's `block_pushing.py` `INITIAL_JOINT_POSITIONS`: the arm's
# joints at every reset, the flange near (0.3, -0.4, 0.07) pointing down.
_INITIAL_JOINTS = (-0.9254632489674508, 0.6990770671568564, -1.106629064060494,
                   0.0006653351931553931, 0.3987969742311386, -4.063402065624296)
# The original's `EFFECTOR_DOWN_ROTATION`: half a turn about y, as (x, y, z, w).
_FLANGE_DOWN = (0.0, 1.0, 0.0, 0.0)


class XArmPusher:
  """The xArm6 of `pybullet_data` with a thin pusher pointing down.

  As the original robot, the tool is attached by a 50 N fixed constraint at
  the centre of mass of link6 (9.5 mm above its frame) and collides with
  link6, which presses it 1.2 cm lower than the constraint's point: once
  settled, its head spans 3 cm down from 2.3 mm below link6's frame and its
  rod ends 4.5 cm below that frame. `move_to` commands the joints to a
  planar target through inverse kinematics (link6's frame at
  `flange_height`, pointing down) and steps the physics (and so the whole
  scene).
  """

  def __init__(self, client: bullet_client.BulletClient,
               flange_height: float):
    self._client = client
    self._flange_height = flange_height
    self.robot_id = client.loadURDF(XARM_URDF, useFixedBase=True)
    self._joints = tuple(
        joint for joint in range(client.getNumJoints(self.robot_id))
        if client.getJointInfo(self.robot_id, joint)[2] ==
        pybullet.JOINT_REVOLUTE)
    for joint in self._joints:
      # As the original robot (and pybullet's xArm example): no link damping.
      client.changeDynamics(self.robot_id, joint, linearDamping=0.0,
                            angularDamping=0.0)
    for joint, position in zip(self._joints, _INITIAL_JOINTS):
      client.resetJointState(self.robot_id, joint, position)
    # As the original robot: the tool is loaded at the flange's centre of
    # mass with the arm at its start joints.
    flange = client.getLinkState(self.robot_id, _FLANGE_LINK,
                                 computeForwardKinematics=True)
    self.effector_id = client.loadURDF(EFFECTOR_URDF, flange[0], flange[1])
    # As the original robot: the tool's frame is the flange's centre-of-mass
    # frame (constraint frames are relative to centres of mass; the tool's
    # is its frame, see assets/effector.urdf).
    constraint = client.createConstraint(
        self.robot_id, _FLANGE_LINK, self.effector_id, -1,
        pybullet.JOINT_FIXED, [0.0, 0.0, 0.0], [0.0, 0.0, 0.0],
        [0.0, 0.0, 0.0])
    client.changeConstraint(constraint, maxForce=_CONSTRAINT_FORCE)

  def reset(self, tip_xy: np.ndarray) -> None:
    """Commands the tip to its start `tip_xy`; no physics step.

    As the original, an episode starts from the scene saved once the loaded
    arm (at `_INITIAL_JOINTS`) and tool have settled; the caller restores it
    and steps the simulation for the arm to reach `tip_xy`.
    """
    self.command(tip_xy)

  def command(self, tip_xy: np.ndarray) -> None:
    """Sets the joint targets to the IK solution for `tip_xy`; no stepping."""
    joints = self._solve_ik(tip_xy)
    self._client.setJointMotorControlArray(
        self.robot_id, self._joints, pybullet.POSITION_CONTROL,
        targetPositions=joints, forces=[_JOINT_FORCE] * len(self._joints))

  def move_to(self, tip_xy: np.ndarray, num_substeps: int) -> None:
    """Commands the tip to `tip_xy`, then steps the physics `num_substeps`.

    As the original: the joint targets jump to the IK solution at once and
    the position motors close the gap within the step.
    """
    self.command(tip_xy)
    for _ in range(num_substeps):
      self._client.stepSimulation()

  def tip_xy(self) -> np.ndarray:
    """The tool's planar position [2] (its axis stays vertical).

    As the original's `effector_translation`: link6's centre of mass, which
    the tool hangs from.
    """
    position = self._client.getLinkState(self.robot_id, _FLANGE_LINK)[0]
    return np.array(position[:2])

  def _solve_ik(self, tip_xy: np.ndarray) -> tuple:
    current = [state[0] for state in
               self._client.getJointStates(self.robot_id, self._joints)]
    return self._client.calculateInverseKinematics(
        self.robot_id, _FLANGE_LINK,
        [tip_xy[0], tip_xy[1], self._flange_height], _FLANGE_DOWN,
        lowerLimits=[-_IK_LIMIT] * 6, upperLimits=[_IK_LIMIT] * 6,
        jointRanges=[_IK_LIMIT] * 6,
        restPoses=[0.0, 0.0] + current[2:],
        maxNumIterations=_IK_ITERATIONS, residualThreshold=_IK_RESIDUAL)
