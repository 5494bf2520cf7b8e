# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOME_DIR ?= ./jejak-data

.PHONY: install demo test lint check format docs bench bench-quick clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,spark]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(VENV)/bin/jejak demo --home $(HOME_DIR)

test: install
	$(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy

check: lint test  ## every check, as CI would run it plus lint

format: install
	$(VENV)/bin/ruff format src tests bench
	$(VENV)/bin/ruff check --fix src tests bench

docs: install
	$(PY) -m jejak.clidoc > docs/cli.md
	$(PY) -m jejak.detect.docs > docs/rules.md

bench: install
	$(PY) bench/run.py

bench-quick: install
	$(PY) bench/run.py --quick

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache bench/out
