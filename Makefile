# Two commands do all the set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: demo test check bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(PIP) install -e '.[dev]'
	touch $@

## demo: install into .venv and run the main job on the bundled bike-sharing data
demo: $(VENV)/.installed
	$(BIN)/sluice demo

## test: every check — format, lint, types, import layers, the whole test suite
test: $(VENV)/.installed-dev
	$(BIN)/ruff format --check sluice tests benchmarks
	$(BIN)/ruff check sluice tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports
	OMP_NUM_THREADS=1 $(BIN)/pytest -n 2 --dist loadgroup

## bench: the side-by-side benchmarks; the peers (MLflow, DVC) get a virtual environment
## of their own, since MLflow pins an older pyarrow than sluice uses, and so does
## Evidently, which does not import under pandas 3
PEERS := benchmarks/.work/peers
EVIDENTLY := benchmarks/.work/evidently
bench: $(VENV)/.installed-dev
	test -x $(PEERS)/bin/python || $(PYTHON) -m venv $(PEERS)
	$(PEERS)/bin/python -m pip --disable-pip-version-check -q install mlflow dvc
	test -x $(EVIDENTLY)/bin/python || $(PYTHON) -m venv $(EVIDENTLY)
	$(EVIDENTLY)/bin/python -m pip --disable-pip-version-check -q install evidently==0.7.23 'pandas<3' pyarrow
	BENCH_PEER_PYTHON=$(PEERS)/bin/python BENCH_EVIDENTLY_PYTHON=$(EVIDENTLY)/bin/python \
		$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .sluice sluice-demo .pytest_cache .mypy_cache .ruff_cache
