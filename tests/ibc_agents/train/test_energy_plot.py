import gin
import numpy as np
from PIL import Image
import tensorflow as tf
from tf_agents.environments import wrappers
from tf_agents.specs import tensor_spec

import environments
from data_tools import demos
from ibc_agents.train import energy_plot
from ibc_agents import ibc_agent
from ibc_agents.networks import mlp_ebm


def test_score_grid_puts_the_best_score_where_the_energy_is_lowest():
  low, high = np.array([0.0, 0.0]), np.array([1.0, 2.0])
  optimum = tf.constant([0.25, 1.5])
  scores = energy_plot.score_grid(
      lambda a: -tf.reduce_sum(tf.square(a - optimum), -1), low, high,
      resolution=41)
  row, column = np.unravel_index(np.argmax(scores), scores.shape)
  assert (row, column) == (10, 10)  # top rows hold the largest 2nd coordinate


def test_png_has_labelled_axes_a_colorbar_and_marked_actions(tmp_path,
                                                             monkeypatch):
  scores = -np.square(np.linspace(-1, 1, 32))[None, :] * np.ones((32, 1))
  drawn = []
  original_savefig = energy_plot.matplotlib_figure.Figure.savefig

  def savefig(figure, *args, **kwargs):
    drawn.append(figure)
    return original_savefig(figure, *args, **kwargs)

  monkeypatch.setattr(energy_plot.matplotlib_figure.Figure, 'savefig',
                      savefig)
  path = str(tmp_path / 'energy.png')
  energy_plot.save_energy_png(path, scores, np.zeros(2), np.ones(2),
                              [(np.array([0.5, 0.5]), 'red', 'chosen')])
  (figure,) = drawn
  axes, colorbar = figure.axes
  assert (axes.get_xlabel(), axes.get_ylabel()) == ('action 0', 'action 1')
  assert colorbar.get_ylabel() == 'score (higher: lower energy)'
  assert [text.get_text() for text in axes.get_legend().get_texts()] == [
      'chosen']
  image = np.asarray(Image.open(path).convert('RGB')).astype(int)
  red = (image[..., 0] > 200) & (image[..., 1] < 60) & (image[..., 2] < 60)
  assert red.any()


def _particle_agent(n_dim: int) -> ibc_agent.ImplicitBCAgent:
  env = wrappers.HistoryWrapper(environments.make('PARTICLE', n_dim=n_dim), 2,
                                tile_first_step_obs=True)
  time_step_spec = tensor_spec.from_spec(env.time_step_spec())
  action_spec = tensor_spec.from_spec(env.action_spec())
  return ibc_agent.ImplicitBCAgent(
      time_step_spec, action_spec,
      mlp_ebm.MLPEBM(time_step_spec.observation, action_spec, width=16),
      tf.keras.optimizers.Adam(),
      training_data_spec=demos.trajectory_spec_from_env(
          environments.make('PARTICLE', n_dim=n_dim)),
      train_step_counter=tf.Variable(0, dtype=tf.int64))


def test_plot_oracle_state_draws_an_agent_energy_for_the_particle_task(tmp_path):
  path = str(tmp_path / 'state.png')
  energy_plot.plot_oracle_state(path, _particle_agent(2), 'PARTICLE', 2, seed=3)
  width, height = Image.open(path).size
  assert width > 300 and height > 300


def test_plot_oracle_state_skips_tasks_whose_action_is_not_2d(tmp_path):
  agent = _particle_agent(3)
  gin.bind_parameter('ParticleEnv.n_dim', 3)
  try:
    energy_plot.plot_oracle_state(str(tmp_path / 'state.png'), agent,
                                  'PARTICLE', 2, seed=3)
  finally:
    gin.clear_config()
  assert not list(tmp_path.iterdir())
