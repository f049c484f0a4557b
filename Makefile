# LabourLab: `make demo` and `make test` each build the environment they need from the lock file.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV ?= .venv
STAMP := $(VENV)/.installed
BIN := $(VENV)/bin

# A Python 3.12+ that runs: $(PYTHON) if given, then PATH, then pyenv's installed versions.
# Candidates are probed by running them, since pyenv shims exist even when they cannot run.
define FIND_PYTHON
ok() { "$$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }; \
if [ -n "$(PYTHON)" ]; then \
  if ok "$(PYTHON)"; then echo "$(PYTHON)"; exit 0; fi; \
  echo "error: PYTHON=$(PYTHON) is not a working Python 3.12 or newer" >&2; exit 1; \
fi; \
for c in python3.14 python3.13 python3.12 python3; do \
  if command -v "$$c" >/dev/null 2>&1 && ok "$$c"; then command -v "$$c"; exit 0; fi; \
done; \
root=$$(pyenv root 2>/dev/null || echo "$$HOME/.pyenv"); \
for p in $$(ls -d "$$root"/versions/3.*/bin/python3 2>/dev/null | sort -V -r); do \
  if ok "$$p"; then echo "$$p"; exit 0; fi; \
done; \
echo "error: LabourLab needs Python 3.12 or newer (Mesa 3.5 does) and none was found." >&2; \
echo "       Install one (e.g. 'pyenv install 3.12') or run 'make PYTHON=/path/to/python3.12 ...'." >&2; \
exit 1
endef

.PHONY: help env demo test lint bench clean assets browser viz

help:
	@echo "make demo   - set up, run experiments/demo.toml (Southampton, every arm, 3 seeds) and compare the arms"
	@echo "make test   - set up, run the tests (what CI runs)"
	@echo "make viz    - set up, serve the browser app (both regimes side by side) on http://127.0.0.1:8765/"
	@echo "make lint   - ruff"
	@echo "make bench  - benchmarks: step vs bare kernel and Mesa loop, all England, executors -> benchmarks/results.md"
	@echo "make clean  - remove the environment and compiled caches"

env: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@py=$$($(FIND_PYTHON)) || exit 1; \
	echo "setting up $(VENV) with $$py ($$($$py --version 2>&1))"; \
	rm -rf $(VENV) && "$$py" -m venv $(VENV) && \
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip && \
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock && \
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e . && \
	touch $(STAMP) && echo "environment ready: $(VENV)"

# The demo experiment (experiments/demo.toml) into a fresh results/demo, then its paired comparison.
# The folder is cleared first so the demo always shows the current code (an experiment folder
# otherwise keeps its finished runs).
demo: $(STAMP)
	rm -rf results/demo
	$(BIN)/labourlab experiment experiments/demo.toml --out results/demo
	$(BIN)/labourlab compare results/demo
	$(BIN)/labourlab report results/demo

test: $(STAMP) assets browser
	$(BIN)/python -m pytest

# Solara's front-end files, fetched once from the npm registry into the venv's offline CDN cache
# (without them the app's page is blank offline; MESA-NOTES.md). A no-op when already filled.
assets: $(STAMP)
	@bash tools/solara_assets.sh $(BIN)/python

# Debian's chromium for the browser test (tests/workflows/test_app.py); never `playwright install`.
browser:
	@if [ -x /usr/bin/chromium ]; then echo "browser: /usr/bin/chromium present"; else \
	  echo "browser: installing Debian's chromium"; \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$sudo apt-get update && $$sudo apt-get install -y chromium; fi

viz: $(STAMP) assets
	$(BIN)/labourlab viz

lint: $(STAMP)
	$(BIN)/ruff check .

# Every benchmark (benchmarks/*.py), each in a fresh process; figures into benchmarks/results.md.
# All of England at one row per person needs about 4 GiB and takes several minutes.
bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

# numba's on-disk cache of compiled kernels is checked against each kernel's own file only, so
# a change to a function it calls in another file (simulation/pcg64.py, simulation/detmath.py,
# simulation/mechanisms/shared_kernels.py, whose functions are compiled into their callers)
# needs this.
clean:
	rm -rf $(VENV)
	find simulation -name __pycache__ -type d -prune -exec rm -rf {} +
