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
                  'environments.block_pushing': ['assets/*.urdf']},
    install_requires=[
        'tensorflow==2.15.1',
        'tf-agents[reverb]==0.19.0',
        'dm-reverb==0.14.0',
        'tensorflow-probability==0.23.0',
        'gin-config==0.5.0',
        'pybullet==3.2.7',
        'absl-py==2.5.1',
        'numpy==1.26.4',
        'gym==0.23.0',
        'pillow==13.0.0',
        'dm-tree==0.1.10',
    ],
    extras_require={
        'test': ['pytest==9.2.0', 'pytest-xdist==3.6.1'],
        # D4RL tasks on gymnasium-robotics' Adroit port and D4RL's HDF5 files.
        'd4rl': [
            'gymnasium-robotics==1.4.2',
            'gymnasium==1.3.0',
            'mujoco==4.0.0',
            'h5py==3.16.0',
        ],
    },
)
