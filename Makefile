# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOME_DIR ?= ./jejak-data

.PHONY: install install-dev demo test lint check format docs bench bench-quick clean browser locale screenshots serve

DEV_STAMP := $(VENV)/.installed-dev-stamp

# the demo needs jejak alone (no Spark: the Spark engine is an extra the tests install)
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $(STAMP)

$(DEV_STAMP): pyproject.toml $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,spark]'
	touch $(DEV_STAMP)

install: $(STAMP)

install-dev: $(DEV_STAMP)

demo: install
	$(VENV)/bin/jejak demo --home $(HOME_DIR)
	@echo
	@echo "The README's jejak commands work once the environment is active:"
	@echo "    source $(VENV)/bin/activate"
	@echo "    export JEJAK_HOME=$(HOME_DIR)"

test: install-dev browser
	$(PY) -m pytest -q

# the workbench's browser tests drive Debian's Chromium; as root (CI) install it when missing
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && (apt-get update && apt-get install -y chromium) || echo "no chromium: the browser tests will be skipped"; }

# extract the workbench's and the customer pages' texts, update both languages' catalogs, compile
# them (translate id by hand); the workbench catalog keeps its header, the customer's has none
locale: install
	$(VENV)/bin/pybabel extract -F src/jejak/web/locale/babel.cfg -k _ -k N_ -k ngettext:1,2 --no-location --omit-header --sort-output -o src/jejak/web/locale/workbench.pot .
	for l in id en; do $(VENV)/bin/pybabel update -D workbench -d src/jejak/web/locale -l $$l -i src/jejak/web/locale/workbench.pot --no-fuzzy-matching -w 100; done
	$(VENV)/bin/pybabel compile -D workbench -d src/jejak/web/locale
	$(VENV)/bin/pybabel extract -F src/jejak/web/locale/customer-babel.cfg -k _ -k tr -k tr_noop --no-location --omit-header --sort-output -o src/jejak/web/locale/customer.pot .
	for l in id en; do $(VENV)/bin/pybabel update -D customer -d src/jejak/web/locale -l $$l -i src/jejak/web/locale/customer.pot --no-fuzzy-matching --omit-header; done
	$(VENV)/bin/pybabel compile -D customer -d src/jejak/web/locale --use-fuzzy  # no header: the catalog counts as fuzzy; no entry is (--no-fuzzy-matching)

# refresh docs/screenshots/ (workbench, customer pages, the evidence report) from the browser tests (desk and phone, both languages)
screenshots: install browser
	rm -rf docs/screenshots/workbench && mkdir -p docs/screenshots/workbench
	JEJAK_SCREENSHOTS=$(CURDIR)/docs/screenshots/workbench $(PY) -m pytest -q tests/workbench/test_browser.py -k "seed or screenshots"
	rm -rf docs/screenshots/customer
	JEJAK_SCREENSHOTS=$(CURDIR)/docs/screenshots $(PY) -m pytest -q tests/customer/test_browser.py -k "screenshots or accepted"
	rm -rf docs/screenshots/report
	JEJAK_SCREENSHOTS=$(CURDIR)/docs/screenshots $(PY) -m pytest -q tests/report/test_browser.py -k screenshots

serve: install
	$(VENV)/bin/jejak serve --home $(HOME_DIR)

lint: install-dev
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy

check: lint test  ## every check, as CI would run it plus lint

format: install-dev
	$(VENV)/bin/ruff format src tests bench
	$(VENV)/bin/ruff check --fix src tests bench

docs: install-dev
	$(PY) -m jejak.clidoc > docs/cli.md
	$(PY) -m jejak.detect.docs > docs/rules.md

bench: install-dev
	$(PY) bench/run.py

bench-quick: install-dev
	$(PY) bench/run.py --quick

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache bench/out
