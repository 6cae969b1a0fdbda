# `make run` serves the built-in article; `make test` runs the whole suite. Each makes .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
XQUAD ?= ../shared/data/xquad-vi/xquad.vi.json
SHARED ?= ../shared
LARGE_TIMEOUT ?= 3h

.PHONY: run test lint eval bench bench-large clean

$(VENV)/.run: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test: $(VENV)/.run
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

$(VENV)/.bench: $(VENV)/.run
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $@

run: $(VENV)/.run
	$(BIN)/qa serve --host $(HOST) --port $(PORT)

test: lint
	$(BIN)/python -m pytest

# ruff's lint and format checks (pyproject.toml says which), as CI runs them: `ruff format qa tests bench` fixes the format.
lint: $(VENV)/.test
	$(BIN)/ruff check qa tests bench
	$(BIN)/ruff format --check qa tests bench

eval: $(VENV)/.run
	$(BIN)/qa eval $(XQUAD)

# One size at a time (the machine may have 2 cores); tables on stdout, figures in bench/results/.
bench: $(VENV)/.bench
	$(BIN)/python bench/corpora.py --shared $(SHARED) --sizes 1k 10k 100k
	for size in 1k 10k 100k; do $(BIN)/python bench/speed.py $$size --shared $(SHARED) || exit 1; done
	$(BIN)/python bench/speed.py cold

# 1M passages, ours only: about an hour on 2 cores, stopped after LARGE_TIMEOUT.
bench-large: $(VENV)/.bench
	$(BIN)/python bench/corpora.py --shared $(SHARED) --sizes 1m
	timeout $(LARGE_TIMEOUT) $(BIN)/python bench/speed.py 1m --shared $(SHARED) --peers none

clean:
	rm -rf $(VENV) .pytest_cache
