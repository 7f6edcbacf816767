# defwatch: `make run` and `make test` are the whole set-up on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SHARED ?= ../shared

.PHONY: install tools run run-once test lint typecheck unit integration bench bench-stream clean engines-up engines-down

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "defwatch needs Python >= 3.11 (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -c 'from extractors.pipeline import load_pipeline; load_pipeline()'
	touch $@

# Go tools the tests use (promtool), built once from the Go module proxy into .tools/bin.
tools:
	bash deploy/tools/install.sh

run: install
	$(BIN)/defwatch run

run-once: install
	$(BIN)/defwatch run --once

lint: install
	$(BIN)/ruff check extractors streams tests bench deploy

typecheck: install
	$(BIN)/mypy

unit: install tools
	PATH="$(CURDIR)/.tools/bin:$$PATH" $(BIN)/pytest -q -rs -m "not engines"

# The engine tests run on real Kafka and Elasticsearch (deploy/engines): up before, down after, also when
# a test fails; an engine that cannot start fails the target (the tests are never skipped).
integration: install
	bash deploy/engines/up.sh
	$(BIN)/pytest -q -rs -m engines -p no:cacheprovider; rc=$$?; bash deploy/engines/down.sh; exit $$rc

test: lint typecheck unit integration

bench: install
	$(BIN)/python bench/extract_speed.py --shared $(SHARED)

engines-up:
	bash deploy/engines/up.sh

engines-down:
	bash deploy/engines/down.sh

bench-stream: install
	bash deploy/engines/up.sh
	$(BIN)/python bench/stream_speed.py --shared $(SHARED); rc=$$?; bash deploy/engines/down.sh; exit $$rc

clean:
	rm -rf $(VENV) .tools .mypy_cache .pytest_cache .ruff_cache
