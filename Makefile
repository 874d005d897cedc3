# One command each: `make run` installs and runs briefbot; `make test` installs and runs the tests.
# Everything installs from requirements.lock: a complete set of pinned, hashed distributions installed as one
# (--no-deps), so the same lock gives the same environment whatever the package index holds later, with
# the pip that `python3 -m venv` bundles (23.2 on Python 3.11) or a newer one. Nothing downloads at run time.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The benchmarks' peer (newspaper4k) pins older releases of what we use, so they get a venv of their own.
BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed
# `make lock` regenerates both locks with this uv, keeping every pin it can; `make lock UPGRADE=1` moves on.
UV_VERSION := 0.13.9
LOCK_VENV := .venv-lock

# venv DIR, LOCK: a venv holding exactly LOCK and briefbot (editable), proved consistent by pip check.
# The stamp names the lock, so tests/test_lock.py knows which one the venv must match.
define install_locked
	$(PYTHON) -m venv $(1)
	$(1)/bin/pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r $(2)
	$(1)/bin/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(1)/bin/pip check --disable-pip-version-check
	echo $(2) > $(1)/.installed
endef

.PHONY: install run example test lint bench quality lock

$(STAMP): requirements.lock pyproject.toml
	@echo "Installing briefbot into $(VENV) from requirements.lock (about a minute the first time)"
	$(call install_locked,$(VENV),requirements.lock)

install: $(STAMP)

# The bot: Slack and/or Discord when their tokens are in the environment, else the console.
run: $(STAMP)
	$(BIN)/briefbot run $(if $(CONFIG),--config $(CONFIG))

example: $(STAMP)
	$(BIN)/briefbot brief examples/harbour_tunnel.html

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q

$(BENCH_STAMP): requirements-bench.lock pyproject.toml
	$(call install_locked,$(BENCH_VENV),requirements-bench.lock)

# Per-stage speed, then issue 16's table against newspaper4k (bench/versus.py rewrites it in bench/README.md).
bench: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python bench/speed.py --baseline
	$(BENCH_VENV)/bin/python bench/versus.py

# Quality of `briefbot batch` on the dev sets, with the baselines and the speed numbers, in one run.
quality: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python bench/quality/run.py

# Regenerate both locks from pyproject.toml (needs the network): universal, so markers keep them right on
# every platform and Python 3.11+. Existing pins are kept unless UPGRADE=1.
lock:
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(LOCK_VENV)/bin/uv pip compile pyproject.toml --extra dev --generate-hashes --universal \
		--python-version 3.11 $(if $(UPGRADE),--upgrade) -o requirements.lock
	$(LOCK_VENV)/bin/uv pip compile pyproject.toml --extra dev --extra bench --generate-hashes --universal \
		--python-version 3.11 $(if $(UPGRADE),--upgrade) -o requirements-bench.lock
