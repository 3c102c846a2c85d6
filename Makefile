# Two commands for a fresh machine (Python >= 3.10, pip, git): `make demo` and `make test`.
# Each builds its own virtual environment in .venv on first use.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install --quiet --disable-pip-version-check --no-warn-script-location

.PHONY: demo test export clean-nbs sync-check docs bench

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip 2>&1 | sed "/^WARNING: Location/d"

# Runtime install only (what a user gets from `pip install mms_mp`), then the offline demo.
demo: $(PY)
	$(PIP) . 2>&1 | sed "/^WARNING: Location/d"
	$(VENV)/bin/mms-mp demo

# Development install (nbdev 2 toolchain, papermill, pytest, ...), sync checks, then the whole suite.
test: $(PY)
	$(PIP) -e ".[dev]" 2>&1 | sed "/^WARNING: Location/d"
	$(PY) tools/sync_check.py
	$(PY) -m pytest

export: $(PY)
	$(VENV)/bin/nbdev_export && $(VENV)/bin/nbdev_clean && $(PY) tools/make_readme.py

bench: $(PY)
	$(PY) bench/run_all.py
