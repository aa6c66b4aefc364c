"""Choosing the policy on validation episodes that the evaluation never sees."""
import functools
import json
import os

import gin
import pytest
from tf_agents.policies import py_tf_eager_policy

from ibc_agents.train import evaluation
from ibc_agents.train import train_eval

GIN_FILE = 'gin_configs/particle/ibc_dfo.gin'
VALIDATION_EPISODES = 10
BINDINGS = [
    'train_eval.eval_interval = 300',
    'train_eval.eval_episodes = 10',
    f'train_eval.validation_episodes = {VALIDATION_EPISODES}',
    'train_eval.log_interval = 300',
    'train_eval.batch_size = 128',
    'train_eval.eval_plot_fn = None',
]


@pytest.fixture(scope='module')
def validated_run(train_easy_particle, tmp_path_factory):
  root_dir = str(tmp_path_factory.mktemp('validated'))
  results = train_easy_particle(GIN_FILE, root_dir, *BINDINGS,
                                'train_eval.num_iterations = 900')
  return root_dir, results


def _validation_key(entry):
  return entry['validation_success_rate'], entry['validation_avg_return']


def test_best_policy_is_the_evaluation_with_the_best_validation_figures(
    validated_run):
  _, results = validated_run
  history = results['eval_history']
  assert [entry['step'] for entry in history] == [300, 600, 900]
  chosen = max(history, key=_validation_key)  # the first of equals
  best = results['best']
  assert best == {'step': chosen['step'], **{
      name: chosen[name] for name in (
          'validation_success_rate', 'validation_avg_return',
          'success_rate', 'avg_return')}}


def test_best_policy_acts_as_it_did_on_the_validation_episodes(
    easy_particle, validated_run):
  root_dir, results = validated_run
  policy = py_tf_eager_policy.SavedModelPyTFEagerPolicy(
      os.path.join(root_dir, train_eval.BEST_POLICY_DIR),
      load_specs_from_pbtxt=True, batch_time_steps=False)
  gin.clear_config()
  gin.parse_config(easy_particle.bindings)
  try:
    result = evaluation.evaluate(
        policy, functools.partial(train_eval.make_env, 'PARTICLE', 2),
        VALIDATION_EPISODES, seed=2_000_000)
  finally:
    gin.clear_config()
  assert result.success_rate == results['best']['validation_success_rate']
  assert result.avg_return == pytest.approx(
      results['best']['validation_avg_return'])


def test_resumed_run_keeps_its_best_unless_a_later_one_validates_better(
    train_easy_particle, validated_run):
  root_dir, results = validated_run
  resumed = train_easy_particle(GIN_FILE, root_dir, *BINDINGS,
                                'train_eval.num_iterations = 1000')
  last = resumed['eval_history'][-1]
  assert last['step'] == 1000
  if _validation_key(last) > _validation_key(results['best']):
    assert resumed['best']['step'] == 1000
  else:
    assert resumed['best'] == results['best']
  with open(os.path.join(root_dir, train_eval.RESULTS_FILE)) as f:
    assert json.load(f)['best'] == resumed['best']


def test_validation_episodes_overlapping_the_evaluation_are_refused(
    train_easy_particle, tmp_path):
  with pytest.raises(ValueError, match='overlap the evaluation episodes'):
    train_easy_particle(GIN_FILE, str(tmp_path / 'run'), *BINDINGS,
                        'train_eval.validation_seed = 1000005')
  assert not (tmp_path / 'run' / train_eval.RESULTS_FILE).exists()


def test_runs_without_validation_export_no_best_policy(
    train_easy_particle, tmp_path):
  root_dir = str(tmp_path / 'run')
  results = train_easy_particle(GIN_FILE, root_dir, *BINDINGS,
                                'train_eval.validation_episodes = 0',
                                'train_eval.num_iterations = 300')
  assert 'best' not in results
  assert 'validation_success_rate' not in results['eval_history'][0]
  assert not os.path.exists(os.path.join(root_dir,
                                         train_eval.BEST_POLICY_DIR))
