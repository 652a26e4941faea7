# Two commands do everything (see README): `make lab` and `make test`.
# Both create the virtual environment in .venv first when it is missing or older than pyproject.toml.
SHELL  := /bin/bash
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PORT   ?= 8888
# The course runs offline: JupyterLab's settings defaults, without the news feed and update checks that ask the web.
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json
LAB_ARGS ?=
# JupyterLab refuses to run as root (containers, CI) unless told so explicitly.
ROOT_ARG := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: lab test test-browser setup lessons save lint format clean

$(STAMP): pyproject.toml
	@echo "==> creating $(VENV) and installing the course (PyTorch is large: a few minutes the first time)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	$(PY) -m ipykernel install --sys-prefix --name cgm-course --display-name "Python (cgm-course)"
	touch $(STAMP)

$(LAB_SETTINGS): scripts/jupyterlab-overrides.json $(STAMP)
	install -D -m 644 $< $@

setup: $(STAMP) $(LAB_SETTINGS)

## Open the course in JupyterLab (installs first when needed).
lab: $(STAMP) $(LAB_SETTINGS)
	$(VENV)/bin/jupyter lab --port=$(PORT) --notebook-dir=. --ServerApp.default_url=/lab/tree/notebooks/00_start_here.ipynb $(ROOT_ARG) $(LAB_ARGS)

## Run the whole test suite in quick mode: unit tests, then every notebook with nbval (installs first when needed).
## JOBS pytest workers (pytest-xdist; default: one per CPU core), each notebook kept whole on one worker.
JOBS ?= auto
test: $(STAMP) $(LAB_SETTINGS) lint
	COURSE_QUICK=1 TQDM_DISABLE=1 $(PY) -m pytest tests notebooks solutions -n $(JOBS) \
		--nbval-lax --nbval-current-env --durations=10 -q -p no:cacheprovider

## Only the end-to-end browser tests: JupyterLab driven by Debian's Chromium (skipped, saying how, without it).
test-browser: $(STAMP) $(LAB_SETTINGS)
	COURSE_QUICK=1 TQDM_DISABLE=1 $(PY) -m pytest tests/browser -v --durations=5 -p no:cacheprovider

## Lint and format check (ruff, settings in pyproject.toml); `make format` rewrites the files instead.
lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(STAMP)
	$(PY) -m ruff format .

## Write every notebook cell marked `# @save utils/<module>.py` into that module (the notebook is the source).
save: $(STAMP)
	$(PY) scripts/save_code.py

## Regenerate lessons/ from solutions/ (after editing a solution notebook).
lessons: $(STAMP)
	$(PY) scripts/make_lessons.py

clean:
	rm -rf $(VENV)
