# Set-up and everyday commands. `make quickstart` and `make test` are all a
# fresh machine needs; both create .venv on first use.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
export TF_CPP_MIN_LOG_LEVEL ?= 3

QUICKSTART_DATA := data/particle
QUICKSTART_RUN := runs/quickstart

.PHONY: quickstart test bench clean

$(VENV)/.installed: setup.py constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --constraint constraints.txt --editable '.[test,d4rl]'
	touch $@

$(QUICKSTART_DATA)/statistics.json: $(VENV)/.installed
	rm -rf $(QUICKSTART_DATA)
	$(PY) -m data_tools.collect --task=PARTICLE --num_episodes=4000 \
	    --num_workers=2 --output_dir=$(QUICKSTART_DATA)

quickstart: $(VENV)/.installed $(QUICKSTART_DATA)/statistics.json
	$(PY) -m ibc_agents.train --gin_file=gin_configs/particle/quickstart.gin \
	    --dataset=$(QUICKSTART_DATA) --root_dir=$(QUICKSTART_RUN)

# Two worker processes, each taking whole test files (module fixtures such as
# a trained run are built once): on 2 cores this is about a quarter faster.
test: $(VENV)/.installed
	$(PY) -m pytest -n 2 --dist loadfile

# Train-step and action throughput of the named configurations against the
# machine's matmul roofline; rewrites the Throughput section of
# docs/benchmarks.md (BENCH_FLAGS=--quick for a smoke run).
bench: $(VENV)/.installed
	$(PY) -m bench.throughput $(BENCH_FLAGS)

clean:
	rm -rf $(VENV) data runs *.egg-info
