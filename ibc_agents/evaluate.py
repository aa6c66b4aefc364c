"""`python -m ibc_agents.evaluate`: an exported policy on a registered task.

The command lives with the training wiring (`ibc_agents.train.evaluate`);
this module only runs it, with its flags as its own (`--help`).
"""
from absl import app
from absl import flags

if __name__ == '__main__':
  from ibc_agents.train import evaluate  # pylint: disable=g-import-not-at-top
  flags.adopt_module_key_flags(evaluate)
  app.run(evaluate.main)
