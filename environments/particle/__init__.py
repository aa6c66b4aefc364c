"""N-D particle task: environment and scripted oracle."""
from environments.particle.oracle import ParticleOracle
from environments.particle.particle_env import ParticleEnv
