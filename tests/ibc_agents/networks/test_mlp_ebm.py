import numpy as np
import pytest
import tensorflow as tf
from tf_agents.specs import tensor_spec

from ibc_agents.networks import mlp_ebm

OBSERVATION_SPEC = {'a': tensor_spec.TensorSpec((2, 3), tf.float32),
                    'b': tensor_spec.TensorSpec((2, 1), tf.float32)}
ACTION_SPEC = tensor_spec.BoundedTensorSpec((4,), tf.float32, -1.0, 1.0)


def _observations(batch_size):
  return tensor_spec.sample_spec_nest(OBSERVATION_SPEC, outer_dims=(batch_size,))


def test_scores_one_value_per_candidate_action():
  network = mlp_ebm.MLPEBM(OBSERVATION_SPEC, ACTION_SPEC, width=16, depth=2)
  scores, state = network((_observations(3), tf.zeros([3, 7, 4])))
  assert scores.shape == (3, 7)
  assert state == ()


def test_single_actions_give_one_score_per_batch_row():
  network = mlp_ebm.MLPEBM(OBSERVATION_SPEC, ACTION_SPEC, width=16, depth=1)
  network.create_variables((OBSERVATION_SPEC, ACTION_SPEC))
  scores, _ = network((_observations(5), tf.zeros([5, 4])))
  assert scores.shape == (5,)


def test_candidate_scores_do_not_depend_on_the_other_candidates():
  tf.random.set_seed(0)
  network = mlp_ebm.MLPEBM(OBSERVATION_SPEC, ACTION_SPEC, width=16, depth=2)
  observations = _observations(2)
  actions = tf.random.uniform([2, 5, 4])
  scores, _ = network((observations, actions))
  reversed_scores, _ = network((observations, actions[:, ::-1]))
  np.testing.assert_allclose(scores.numpy(), reversed_scores.numpy()[:, ::-1],
                             rtol=1e-5, atol=1e-6)


def test_depth_adds_residual_blocks():
  shallow = mlp_ebm.MLPEBM(OBSERVATION_SPEC, ACTION_SPEC, width=8, depth=1)
  deep = mlp_ebm.MLPEBM(OBSERVATION_SPEC, ACTION_SPEC, width=8, depth=3)
  for network in (shallow, deep):
    network.create_variables((OBSERVATION_SPEC, ACTION_SPEC))
  assert len(deep.trainable_variables) - len(shallow.trainable_variables) == 8


def test_invalid_width_is_rejected():
  with pytest.raises(ValueError, match='width'):
    mlp_ebm.MLPEBM(OBSERVATION_SPEC, ACTION_SPEC, width=0)
