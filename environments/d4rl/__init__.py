"""D4RL human-demonstration tasks: environments and normalized scores.

Nothing is imported here, so that `environments` can list the tasks without
loading a simulator; see `d4rl_env` and `scores`.
"""
