# One command each: `make run` installs and runs briefbot; `make test` installs and runs the tests.
# Everything installs from requirements.lock (pinned, with hashes); nothing downloads at run time.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run example test lint bench quality

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

# The bot: Slack and/or Discord when their tokens are in the environment, else the console.
run: $(STAMP)
	$(BIN)/briefbot run $(if $(CONFIG),--config $(CONFIG))

example: $(STAMP)
	$(BIN)/briefbot brief examples/harbour_tunnel.html

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/pytest -q

$(VENV)/.bench-installed: $(STAMP) requirements-bench.lock
	$(BIN)/pip install --quiet --require-hashes -r requirements-bench.lock
	touch $@

bench: $(VENV)/.bench-installed
	$(BIN)/python bench/speed.py --baseline

# Quality of `briefbot batch` on the dev sets, with the baselines and the speed numbers, in one run.
quality: $(VENV)/.bench-installed
	$(BIN)/python bench/quality/run.py
