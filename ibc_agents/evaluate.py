"""`python -m ibc_agents.evaluate`: an exported policy on a registered task.

The command lives with the training wiring (`ibc_agents.train.evaluate`);
this module only runs it, so that the algorithm package imports no task.
"""
from absl import app

from ibc_agents.train import evaluate

if __name__ == '__main__':
  app.run(evaluate.main)
