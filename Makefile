# `make run` serves the built-in article; `make test` runs the whole suite. Each makes .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
XQUAD ?= ../shared/data/xquad-vi/xquad.vi.json

.PHONY: run test eval bench bench-large clean

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

test: $(VENV)/.test
	$(BIN)/python -m pytest

eval: $(VENV)/.run
	$(BIN)/qa eval $(XQUAD)

clean:
	rm -rf $(VENV) index/built .pytest_cache
