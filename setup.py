"""Implicit behavioral cloning for TF-Agents."""
import setuptools

setuptools.setup(
    name='ibc-agents',
    version='0.1.0',
    description='Implicit Behavioral Cloning (energy-based policies) for TF-Agents.',
    python_requires='>=3.11,<3.12',
    packages=setuptools.find_packages(
        include=['ibc_agents*', 'environments*', 'data_tools*', 'gin_configs*']),
    package_data={'gin_configs': ['*/*.gin'],
                  'environments.block_pushing': ['assets/*.urdf',
                                                 'assets/*.obj']},
    # Compatible ranges, for installing into an existing environment; the
    # exact, tested set is constraints.txt (`make` installs with it).
    # tf-agents 0.19 and dm-reverb 0.14, the last releases, bind TensorFlow
    # to 2.15 and Python to 3.11.
    install_requires=[
        'tensorflow>=2.15,<2.16',
        'tf-agents[reverb]>=0.19,<0.20',
        'dm-reverb>=0.14,<0.15',
        'tensorflow-probability>=0.23,<0.24',
        'gin-config>=0.5,<0.6',
        'pybullet>=3.2.5,<4',
        'absl-py>=1.0',
        'numpy>=1.23,<2',
        'gym>=0.23,<0.24',
        'pillow>=9',
        'matplotlib>=3.7',
        'dm-tree>=0.1.8',
    ],
    extras_require={
        'test': ['pytest>=7', 'pytest-xdist>=3'],
        # D4RL tasks on gymnasium-robotics' Adroit port and D4RL's HDF5 files.
        'd4rl': [
            'gymnasium-robotics>=1.4,<2',
            'gymnasium>=1.0,<2',
            'mujoco>=4,<5',
            'h5py>=3',
        ],
    },
)
