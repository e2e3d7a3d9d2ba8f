# Two commands set everything up on a fresh machine:
#   make demo   creates .venv, installs Interlock, and runs the demo
#   make test   installs everything the checks need and runs every check (CI runs exactly this)

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=
TOUR_STORE := sqlite:///.interlock/tour.db

.DEFAULT_GOAL := help
.PHONY: help install demo tour test lint format typecheck imports unit bench soak schema docs clean lambdas alert-types tools tf-apply-moto

help:
	@echo "make demo    set up .venv and run the embedded demo"
	@echo "make tour    a guided tour of the CLI (validate, explain, the store)"
	@echo "make test    set up .venv and run every check (format, lint, types, imports, tests)"
	@echo "make bench   run the benchmarks in bench/ and print one table against the targets"
	@echo "             (writes docs/performance.md; BENCH_QUICK=1 for a quick smoke run)"
	@echo "make soak    1,000 pipelines, 500 sensor writes/s for 60 s while interlock-tui tails (in tmux):"
	@echo "             nothing lost, p99 latency, RSS flat (opt-in; SOAK_ARGS=\"--seconds 180\" ...)"
	@echo "make schema  regenerate schema/*.json from the config models"
	@echo "make docs    regenerate the generated docs: events.md, oncall.md (+ console captures)"
	@echo "make lambdas build deploy/dist: the arm64 layer and the handler zips (reproducible)"
	@echo "make alert-types  regenerate deploy/terraform/alert_types.json from the event catalogue"
	@echo "make tf-apply-moto  opt-in: terraform apply of examples/terraform into a moto server (~2 min)"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Interlock needs Python 3.11 or newer; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)

# uv installs the stack in seconds; plain pip is the fallback if uv cannot be had. --compile-bytecode:
# uv writes no .pyc by default, so every import compiled the packages from source until Python cached
# them, and never where PYTHONDONTWRITEBYTECODE is set (as on CI machines and ours): measured on a fresh
# venv, importing the CLI, API, TUI, boto3, moto, pytest and hypothesis took 5.1-5.4 s without, 1.6-1.7 s
# with (the install itself 4 s -> 16 s once). pip compiles at install time already.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv || true
	if [ -x $(BIN)/uv ]; then \
	  $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[dev]'; \
	else \
	  $(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'; \
	fi
	touch $(STAMP)

install: $(STAMP)

# In a terminal the demo opens the TUI on a live demo world; without one it prints the day headless.
demo: install
	@if [ -t 1 ] && $(BIN)/python -c 'import tui.demo' 2>/dev/null; then \
	  $(BIN)/interlock-tui --demo; \
	else \
	  $(BIN)/interlock demo --headless; \
	fi

# A guided tour of the CLI: validate, explain, the store.
tour: install
	@echo "== interlock validate examples/pipelines"
	$(BIN)/interlock validate examples/pipelines
	@echo
	@echo "== a broken file: every problem, with file, line and key (exit 2 is expected)"
	$(BIN)/interlock validate tests/configs/broken/bad-types.yaml; echo "(exit $$?)"
	@echo
	@echo "== interlock explain: gold-revenue at 08:41 UTC, one sensor is stale (exit 1 = not ready)"
	$(BIN)/interlock explain gold-revenue --pipelines examples/pipelines \
	  --sensors examples/sensors/gold-revenue.json --at 2026-03-02T08:41:00Z; echo "(exit $$?)"
	@echo
	@echo "== the same pipeline with fresh data (exit 0 = ready)"
	$(BIN)/interlock explain gold-revenue --pipelines examples/pipelines \
	  --sensors examples/sensors/gold-revenue-fresh.json --at 2026-03-02T08:41:00Z; echo "(exit $$?)"
	@echo
	@echo "== the store: push configs, write sensors as producers do, ask again (store: .interlock/tour.db; make demo keeps .interlock/demo.db)"
	rm -f .interlock/tour.db .interlock/tour.db-wal .interlock/tour.db-shm
	$(BIN)/interlock config push examples/pipelines --store $(TOUR_STORE)
	$(BIN)/interlock sensor put gold-revenue upstream-complete status=ready --store $(TOUR_STORE)
	$(BIN)/interlock sensor put gold-revenue row-count count=15432 --store $(TOUR_STORE)
	$(BIN)/interlock explain gold-revenue --store $(TOUR_STORE); echo "(exit $$?)"
	$(BIN)/interlock sensor put gold-revenue freshness updatedAt=now --store $(TOUR_STORE)
	$(BIN)/interlock explain gold-revenue --store $(TOUR_STORE); echo "(exit $$?)"
	@echo
	@echo "== a business-day pipeline on a US holiday (Thanksgiving) in New York time"
	$(BIN)/interlock explain finance-close --pipelines examples/pipelines --at 2026-11-26T12:00:00Z \
	  --store $(TOUR_STORE); \
	  echo "(exit $$?)"

# checkov pins its own boto3 and ships a module named hcl2 (shadowing python-hcl2): its own venv.
TOOLS     := .venv-tools
TOOLS_STAMP := $(TOOLS)/.installed
$(TOOLS_STAMP):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv || true
	if [ -x $(TOOLS)/bin/uv ]; then \
	  $(TOOLS)/bin/uv pip install --quiet --compile-bytecode --python $(TOOLS)/bin/python 'checkov>=3,<4'; \
	else \
	  $(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check 'checkov>=3,<4'; \
	fi
	touch $(TOOLS_STAMP)

# the checkov test skips with its reason when the tools venv cannot be built (no registry)
tools:
	-@$(MAKE) --no-print-directory $(TOOLS_STAMP)

lambdas: install
	$(BIN)/python deploy/build_lambdas.py

# Opt-in, not in `make test` (about two minutes here): terraform apply of examples/terraform into a
# moto server on loopback, offline (scripts/tf_apply_moto.py says what it proves; skips with a reason
# when terraform or the provider mirror is missing).
tf-apply-moto: install
	$(BIN)/python scripts/tf_apply_moto.py $(TF_MOTO_ARGS)

alert-types: install
	$(BIN)/python deploy/gen_alert_types.py

test: install tools
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python scripts/with_dynamodb_local.py \
	  $(BIN)/pytest -n auto -p no:cacheprovider --cov --cov-report=term $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: install
	$(BIN)/mypy

imports: install
	$(BIN)/lint-imports

unit: install
	$(BIN)/pytest -q tests/unit $(PYTEST_ARGS)

# Every bench, then one table of issue 16's figures beside their targets, written into
# docs/performance.md (between its bench markers). BENCH_QUICK=1: tiny sizes, a smoke test, nothing written.
bench: install
	$(BIN)/python bench/report.py $(if $(filter-out 0,$(BENCH_QUICK)),--quick,--write docs/performance.md)

# Opt-in, not in `make test`: the embedded runtime with 1,000 pipelines under 500 sensor writes/s for 60 s
# while a TUI-style tail reads (loopback only, bounded); prints latency, RSS and what was lost (exit 1 if
# anything). SOAK_ARGS="--pipelines 100 --rate 100 --seconds 10" for a shorter run.
soak: install
	$(BIN)/python bench/soak.py $(SOAK_ARGS)

schema: install
	$(BIN)/interlock schema --write schema/

# the console captures first: docs/oncall.md shows them
docs: install
	$(BIN)/python scripts/capture_console.py
	$(BIN)/python scripts/gen_docs.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .coverage htmlcov *.egg-info
