# HARVEST developer entry points. `make up` runs the platform; `make test` installs and runs everything.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: venv system-deps up test test-unit test-integration test-e2e proto proto-check bench lint clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)

## Debian packages the real-server tests use (installed only when missing; starts nothing).
system-deps:
	@bash scripts/install-system-deps.sh

## Run every process on this host with embedded defaults (state in $$HARVEST_HOME, default ~/.harvest).
up: venv
	$(VENV)/bin/harvest up --demo

## Unit, integration (real Redis, PostgreSQL, S3, Slurm) and end-to-end (real browser) tests.
test: venv system-deps
	$(PY) -m pytest tests $(PYTEST_ARGS)

test-unit: venv
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

test-integration: venv system-deps
	$(PY) -m pytest tests/integration $(PYTEST_ARGS)

test-e2e: venv system-deps
	$(PY) -m pytest tests/e2e $(PYTEST_ARGS)

## Regenerate services/harvest/v1 from proto/harvest/v1 (a unit test checks they are current).
proto: venv
	$(PY) scripts/gen_proto.py

proto-check: venv
	$(PY) scripts/gen_proto.py --check

## Benchmarks: each prints a table against a baseline measured in the same run.
bench: venv
	@set -e; shopt -s nullglob; for b in bench/*.py; do echo "== $$b"; $(PY) $$b; done

lint: venv
	$(VENV)/bin/ruff check services tests scripts bench

clean:
	rm -rf $(VENV) .pytest_cache tests/e2e/artifacts
