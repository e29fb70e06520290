# Two commands on a fresh machine (python3 >= 3.11, pip, make):
#   make demo   set up .venv, build data/demo.duckdb if missing, start the dashboard
#   make test   install dev dependencies into .venv and run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO_DB := data/demo.duckdb
PORT   ?= 8501
# Test workers; CI machines have 2 cores.
WORKERS ?= 2

.PHONY: demo test install install-dev system-packages demo-db notebook lint bench lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files re-run the install only when a lock file or pyproject.toml changes.
$(VENV)/.installed: requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-dev: requirements-dev.lock pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(DEMO_DB): | $(VENV)/.installed
	$(BIN)/desist demo --db $(DEMO_DB) --out data/demo

demo-db: $(DEMO_DB)

# `desist dashboard` passes the address (127.0.0.1), headless mode, no usage statistics and
# the other settings on streamlit's command line: nothing depends on the current folder.
demo: install demo-db
	$(BIN)/desist dashboard --db $(DEMO_DB) --port $(PORT)

# Jupyter Lab on the project's environment, opened on notebooks/ (set DESIST_DB for your own data).
notebook: install-dev demo-db
	$(BIN)/jupyter lab --notebook-dir=notebooks --no-browser

# R (survival, MatchIt), Chromium and fonts for the reference and browser tests:
# installed with apt-get when missing and run as root, else the command to run is printed.
system-packages:
	@bash tests/system-packages.sh

test: system-packages install-dev
	$(BIN)/python -m pytest -n $(WORKERS) --timeout=900

# Style, the layer contracts and the type checks ([tool.importlinter], [tool.mypy] in
# pyproject.toml); `make test` runs the last two too (tests/test_layers.py).
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

bench: install-dev
	for script in benchmarks/bench_*.py; do $(BIN)/python $$script || exit 1; done

# Re-resolve the pinned versions (needs the network; commit both lock files).
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra pdf --extra oidc --python-version 3.11 -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements-dev.lock

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
