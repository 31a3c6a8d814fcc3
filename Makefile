# The venv is created on demand so `make test` works from a fresh clone.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# pytest-xdist workers (CI has 2 cores); `make test PYTEST_WORKERS=0` runs in one process. Each test module runs on
# one worker, so its module-scoped servers start once; tests/conftest.py starts the slowest modules first. The few
# tests marked `alone` (they bound the tool's wall-clock time) run afterwards, by themselves.
PYTEST_WORKERS ?= 2

.PHONY: install test lint kb-check bench demo screenshots clean

# Bytecode is compiled once here, on both cores (pip's own compiling is serial): where PYTHONDONTWRITEBYTECODE is
# set (as on our development machines), nothing imported is ever cached, and every process (each test worker, each CLI the
# tests and the demo start) would compile what it imports again: `--help` took 0.38 s instead of 0.17 s.
$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --no-compile -e '.[test]'
	$(BIN)/python -m compileall -q -j 0 $(VENV)/lib residency_audit bench demo tests > /dev/null \
		|| echo "make: some files were not compiled to bytecode; they will be compiled when imported" >&2
	touch $(STAMP)

install: $(STAMP)

kb-check: $(STAMP)
	$(BIN)/residency-audit kb-check

lint: $(STAMP)
	$(BIN)/ruff check residency_audit tests bench demo
	$(BIN)/ruff format --check residency_audit tests bench demo
	$(BIN)/mypy

test: $(STAMP) kb-check lint
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder -m "not alone"
	$(BIN)/pytest -p no:xdist -m alone

bench: $(STAMP)
	$(BIN)/python -m bench

# Local AWS, Azure and Google Cloud stand-ins, a seeded estate, the real CLI, reports in demo-out/ (RESIDENCY_AUDIT_DEMO_OUT)
demo: $(STAMP)
	$(BIN)/python -m demo

# The README's screenshots of the demo report (light and dark), taken by the browser test in Debian's Chromium
screenshots: $(STAMP)
	RESIDENCY_AUDIT_DEMO_OUT=demo-out $(BIN)/python -m demo >/dev/null
	mkdir -p docs/screenshots
	SCREENSHOT_REPORT=demo-out/report.html SCREENSHOT_DIR=docs/screenshots $(BIN)/pytest tests/test_browser.py -k screenshots

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
