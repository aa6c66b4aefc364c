"""The Adroit tasks on gymnasium-robotics' port, against D4RL's real data."""
import mujoco
import numpy as np
import pytest
from tf_agents.environments import utils as env_utils
from tf_agents.trajectories import time_step as ts

import environments
from data_tools import demos
from environments.d4rl import d4rl_env
from environments.d4rl import simulators

pytest.importorskip(
    'gymnasium_robotics',
    reason='the Adroit port needs the d4rl extra: pip install .[d4rl]')
if simulators.d4rl_importable('d4rl.hand_manipulation_suite'):
  pytest.skip('d4rl imports, so D4RL tasks run on its own environment',
              allow_module_level=True)

ADROIT_SIZES = {  # task: (observation, action) sizes of D4RL's environments
    'door-human-v0': (39, 28),
    'pen-human-v0': (45, 24),
    'hammer-human-v0': (46, 26),
    'relocate-human-v0': (39, 30),
}


def _door_port(seed=0):
  simulator = simulators.GymnasiumRoboticsSimulator('AdroitHandDoor-v1', 'door')
  return d4rl_env.D4rlEnv('door-human-v0', seed=seed, simulator=simulator), (
      simulator.env)


def _door_shard(anchor_dir) -> str:
  return str(anchor_dir / 'door-human-v0' / 'door-human-v0_0.tfrecord')


@pytest.mark.parametrize('task', sorted(ADROIT_SIZES))
def test_registered_task_has_d4rls_sizes_and_steps(task):
  env = environments.make(task, seed=0)
  observation_size, action_size = ADROIT_SIZES[task]
  assert env.observation_spec().shape == (observation_size,)
  assert env.observation_spec().dtype == np.float32
  assert env.action_spec().shape == (action_size,)
  np.testing.assert_array_equal(env.action_spec().minimum, -1.0)
  np.testing.assert_array_equal(env.action_spec().maximum, 1.0)
  env_utils.validate_py_environment(env, episodes=1)
  env.close()


def test_episode_limits_are_d4rls_registration_values():
  limits = {task: info.max_episode_steps
            for task, info in d4rl_env.TASKS.items()}
  assert limits == {
      'door-human-v0': 200, 'hammer-human-v0': 200, 'relocate-human-v0': 200,
      'pen-human-v0': 100, 'kitchen-complete-v0': 280,
      'kitchen-partial-v0': 280, 'kitchen-mixed-v0': 280}


def test_door_specs_load_the_reference_data(anchor_dir):
  env = environments.make('door-human-v0', seed=0)
  episodes = demos.load_episodes([_door_shard(anchor_dir)],
                                 demos.trajectory_spec_from_env(env))
  assert len(episodes) == 11


def test_door_episode_is_truncated_at_200_steps():
  env, _ = _door_port()
  time_step = env.reset()
  assert time_step.step_type == ts.StepType.FIRST
  steps = [env.step(np.zeros(28, np.float32)) for _ in range(200)]
  assert [s.step_type for s in steps[:-1]] == [ts.StepType.MID] * 199
  assert steps[-1].is_last() and steps[-1].discount == 1.0
  assert steps[-1].reward.dtype == np.float32
  assert not env.get_info()['success']
  assert env.step(np.zeros(28, np.float32)).is_first()  # auto-reset


def test_same_seed_gives_the_same_doors():
  def handle_positions(env):
    return [env.reset().observation[32:35] for _ in range(2)]

  first = handle_positions(_door_port(seed=3)[0])
  again = handle_positions(_door_port(seed=3)[0])
  other = handle_positions(_door_port(seed=4)[0])
  np.testing.assert_array_equal(first, again)
  assert not np.allclose(first[0], other[0])
  assert not np.allclose(first[0], first[1])  # consecutive episodes differ


def test_door_port_replays_a_reference_episode(anchor_dir):
  """Observation layout, dynamics and D4RL reward against the recorded data.

  Episode 0 starts from the reset state: all joints at 0 and the door body
  where the recorded handle position puts it.
  """
  episode = demos.load_episodes([_door_shard(anchor_dir)])[0]
  env, gym_env = _door_port()
  env.reset()
  handle_offset = (gym_env.data.site('S_handle').xpos -
                   gym_env.model.body('frame').pos)
  observation, _ = gym_env.reset(options={'initial_state_dict': {
      'qpos': np.zeros(30), 'qvel': np.zeros(30),
      'door_body_pos': episode.observation[0, 32:35] - handle_offset}})
  np.testing.assert_allclose(observation, episode.observation[0], atol=1e-6)
  for t in range(20):  # contacts make the simulators drift apart later
    time_step = env.step(episode.action[t])
    np.testing.assert_allclose(time_step.observation,
                               episode.observation[t + 1], atol=1e-5)
    np.testing.assert_allclose(time_step.reward, episode.reward[t], atol=1e-5)


def test_door_open_is_a_success_with_d4rls_bonus():
  env, gym_env = _door_port()
  env.reset()
  gym_env.data.joint('door_hinge').qpos[0] = 1.5
  mujoco.mj_forward(gym_env.model, gym_env.data)
  time_step = env.step(np.zeros(28, np.float32))
  assert env.get_info()['success']
  assert time_step.observation[38] == 1.0  # the door-open flag
  assert time_step.reward > 19.0  # bonuses 2 + 8 + 10 minus small costs


def test_pen_episode_ends_when_the_pen_drops():
  simulator = simulators.GymnasiumRoboticsSimulator('AdroitHandPen-v1', 'pen')
  env = d4rl_env.D4rlEnv('pen-human-v0', seed=0, simulator=simulator)
  env.reset()
  # The pen's OBJTx slide points down in the world: its centre to z ~ 0.05.
  simulator.env.data.joint('OBJTx').qpos[0] = 0.2
  mujoco.mj_forward(simulator.env.model, simulator.env.data)
  time_step = env.step(np.zeros(24, np.float32))
  assert time_step.is_last() and time_step.discount == 0.0
  assert time_step.reward < -3.0  # D4RL's drop penalty of 5
