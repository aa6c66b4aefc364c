"""Block pushing with an xArm6 in pybullet: environments, oracles, rendering.

Tasks PUSH, REACH, PUSH_DISCONTINUOUS and PUSH_MULTIMODAL on the simulator
state, and PUSH_PIXELS and PUSH_DISCONTINUOUS_PIXELS on camera images,
registered in `environments`.
"""
