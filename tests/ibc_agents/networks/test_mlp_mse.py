import numpy as np
import pytest
import tensorflow as tf
from tf_agents.specs import tensor_spec

from ibc_agents.networks import mlp_mse

OBSERVATION_SPEC = {'a': tensor_spec.TensorSpec((2, 3), tf.float32),
                    'b': tensor_spec.TensorSpec((2, 1), tf.float32)}
ACTION_SPEC = tensor_spec.BoundedTensorSpec((4,), tf.float32, -1.0, 1.0)


def _observations(batch_size):
  return {'a': tf.random.normal([batch_size, 2, 3], seed=0),
          'b': tf.random.normal([batch_size, 2, 1], seed=1)}


def test_outputs_one_action_per_batch_row_from_a_history_nest():
  network = mlp_mse.MLPMSE(OBSERVATION_SPEC, ACTION_SPEC, width=16, depth=2)
  actions, state = network(_observations(3))
  assert actions.shape == (3, 4)
  assert state == ()


def test_output_depends_on_every_history_step():
  tf.random.set_seed(0)
  network = mlp_mse.MLPMSE(OBSERVATION_SPEC, ACTION_SPEC, width=16, depth=1)
  observations = _observations(2)
  changed = dict(observations, a=tf.tensor_scatter_nd_add(
      observations['a'], [[0, 0, 0]], [1.0]))  # first history step only
  before, _ = network(observations)
  after, _ = network(changed)
  assert not np.allclose(before[0], after[0])
  np.testing.assert_allclose(before[1], after[1], rtol=1e-6)


def test_linear_head_is_not_bounded_to_the_normalised_box():
  tf.random.set_seed(1)
  network = mlp_mse.MLPMSE(OBSERVATION_SPEC, ACTION_SPEC, width=16, depth=1)
  large = tf.nest.map_structure(lambda x: 1e3 * tf.ones_like(x),
                                _observations(1))
  actions, _ = network(large)
  assert np.max(np.abs(actions)) > 1.0


@pytest.mark.parametrize('action_spec', [
    (ACTION_SPEC, ACTION_SPEC),
    tensor_spec.BoundedTensorSpec((2, 2), tf.float32, -1.0, 1.0),
])
def test_rejects_actions_that_are_not_a_single_vector(action_spec):
  with pytest.raises(ValueError, match='single rank-1'):
    mlp_mse.MLPMSE(OBSERVATION_SPEC, action_spec)


def test_invalid_width_is_rejected():
  with pytest.raises(ValueError, match='width'):
    mlp_mse.MLPMSE(OBSERVATION_SPEC, ACTION_SPEC, width=0)
