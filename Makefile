# The two set-up commands of the README: `make run` (the main job) and `make test` (the suite).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin

# Read datasets from the local mirror when it sits beside the checkout (CI and the dev machines).
ifneq ($(wildcard ../shared/data/README.md),)
SEQLAB_DATA ?= $(abspath ../shared/data)
endif
export SEQLAB_DATA

.PHONY: run test lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# After installing, build seqlab.nn's C++ loops for this machine once (about a minute; without a
# compiler it warns and the numba loops take over).
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m seqlab.nn.native
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m seqlab.nn.native
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/seqlab demo

# pytest runs tests/ and the doctests of src/ (testpaths and --doctest-modules in pyproject.toml).
test: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
