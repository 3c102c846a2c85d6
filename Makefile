# Two commands for a fresh machine (Python >= 3.10, pip, git): `make demo` and `make test`.
# Each builds its own virtual environment in .venv on first use.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install --quiet --disable-pip-version-check --no-warn-script-location

.PHONY: demo test export docs

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

# Docs without quarto: nbconvert HTML into _docs_html/ plus headless-Chromium screenshots of two pages.
# Chromium and MathJax come from Debian (needs root); with quarto installed, `nbdev_docs` builds the site.
docs: $(PY)
	$(PIP) -e ".[dev]" 2>&1 | sed "/^WARNING: Location/d"
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium libjs-mathjax)
	$(PY) tools/render_docs.py
	$(PY) tools/render_docs.py --screenshot index 04_coords
	$(PY) tools/render_docs.py --reports
