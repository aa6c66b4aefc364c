"""Training wiring around the algorithm: tasks, demonstrations, evaluation.

`python -m ibc_agents.train` trains and evaluates (`__main__`). `train_eval`
runs a training with one frozen `settings.TrainEvalSettings` (gin's
`train_eval.*`): its demonstrations come from `demonstration_source`, its
run directory is kept by `run_dir` and `checkpoints`, its devices by
`distribution`, and `periodic_eval` measures and exports the policy every
`eval_interval` steps. `evaluation` runs episodes and scores them;
`evaluate` and `exported` measure a saved policy; `energy_plot` and `video`
draw what a policy does. Unlike the algorithm (`ibc_agents` itself), these
import `environments` and `data_tools`. This file imports nothing, so that
the command line can leave the network before TensorFlow starts
(`data_tools.network_isolation`).
"""

# The tf.distribute strategies training offers (`distribution.make_strategy`).
STRATEGIES = ('default', 'mirrored', 'multi_worker', 'tpu')
