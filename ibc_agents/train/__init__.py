"""Training wiring around the algorithm: tasks, demonstrations, evaluation.

`python -m ibc_agents.train` trains and evaluates (`__main__`); `train_eval`
runs a training on a registered task from demonstration shards, `evaluation`
measures a policy, `energy_plot` and `video` draw what it does. Unlike the
algorithm (`ibc_agents` itself), these import `environments` and
`data_tools`. This file imports nothing, so that the command line can leave
the network before TensorFlow starts (`data_tools.network_isolation`).
"""

# The tf.distribute strategies training offers (`distribution.make_strategy`).
STRATEGIES = ('default', 'mirrored', 'multi_worker', 'tpu')
