"""Block pushing with an xArm6 in pybullet: environments, oracles, rendering.

Tasks PUSH, REACH, PUSH_DISCONTINUOUS and PUSH_MULTIMODAL, registered in
`environments`.
"""
