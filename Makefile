# Two commands on a fresh machine (Python 3.10+ and make):
#   make demo   create .venv, install monitorkit, run the demo: a report appears under reports/
#   make test   install the test dependencies too, and run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test test-quick lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

demo: $(VENV)/.installed
	$(BIN)/monitorkit demo

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest

# The quick local loop: everything but the tests that start kernels, browsers, clusters or
# build wheels, or that need a million rows (markers in pyproject.toml).
test-quick: $(VENV)/.installed-test
	$(BIN)/python -m pytest -m "not kernel and not browser and not big and not cluster and not build"

lint: $(VENV)/.installed-test
	$(BIN)/ruff check monitorkit tests benchmarks
	$(BIN)/ruff format --check monitorkit tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
