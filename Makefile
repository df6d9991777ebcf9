# streams: two commands on a fresh machine, `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install browser demo test test-failover bench soak lint unit schemas clean

# Debian's chromium for the dashboard test (a browser download by Playwright cannot work on a
# closed network); apt-get runs only when it is missing, through sudo when not root.
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: install
	$(BIN)/streams demo

lint: install
	$(BIN)/ruff check streams tests
	$(BIN)/ruff format --check streams tests
	$(BIN)/mypy

browser:
	@test -x $(CHROMIUM) || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }
	@$(CHROMIUM) --version 2>/dev/null

# the whole suite under one wall-clock bound: a hang (a test, or a thread left at exit) ends
# the run with a failure and its output instead of running into CI's own limit
TEST_LIMIT ?= 4200

test: lint browser
	$(BIN)/streams broker fetch
	timeout --kill-after=30 $(TEST_LIMIT) $(BIN)/python -m pytest -p no:cacheprovider -q

test-failover: install
	$(BIN)/streams broker fetch
	$(BIN)/python -m pytest -p no:cacheprovider -q -m failover

bench: install
	$(BIN)/streams bench --workers 1 --workers 2

soak: install
	$(BIN)/streams bench --soak --out bench-soak.json

unit: install
	$(BIN)/python -m pytest -q -m "not integration"

schemas: install
	$(BIN)/streams schemas --write

clean:
	rm -rf $(VENV) .streams .mypy_cache .ruff_cache
