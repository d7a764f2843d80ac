# interpol-mesh: `make help` lists the targets. Everything installs into ./.venv.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_DIR := interop/node
NODE_STAMP := $(NODE_DIR)/node_modules/.installed

.PHONY: help install run test lint fmt types imports gen check-gen check browser clean load bench bench-ccc bench-police

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 is required"' || { echo "interpol-mesh needs Python >= 3.11 (set PYTHON=python3.11)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# The Node.js verifier and national client (interop/node) install from their lock file; without npm the
# tests that need them say so loudly (and fail under CI=true).
$(NODE_STAMP): $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  (cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed) \
	  || echo "!! npm ci failed in $(NODE_DIR) (no registry?): the Node.js verifier and national client will not run"; \
	else echo "!! npm not found: the Node.js conformance verifier and national client will not run (install Node.js >= 20)"; fi

install: $(STAMP) $(NODE_STAMP) ## create .venv and install the project with its dev tools (and interop/node's npm packages)

run: $(STAMP) ## start the default mesh (embedded NATS, SQLite under ./var); Ctrl-C stops it
	$(BIN)/interpol-mesh up $(ARGS)

test: $(STAMP) $(NODE_STAMP) ## run the whole test suite on real NATS, SQLite and PostgreSQL
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP) ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(STAMP) ## apply ruff fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

types: $(STAMP) ## mypy --strict on the shared library and the services
	$(BIN)/mypy

imports: $(STAMP) ## layering contracts (import-linter)
	$(BIN)/lint-imports

gen: $(STAMP) ## regenerate proto-schemas/ and deploy/ from the code
	$(BIN)/python -m interpol_offices.cli.generate

check-gen: $(STAMP) ## fail if generated files differ from the code
	$(BIN)/python -m interpol_offices.cli.generate --check

check: lint types imports check-gen test ## lint, types, layering, generated files and the tests

RATE ?= 50
DURATION ?= 60
REPORT ?= var/load-report.json

load: $(STAMP) ## traffic from all 196 NCBs (RATE=50 ops/s, DURATION=60 s) through a fresh mesh (or the one at MESH_URL); report + picture in var/
	$(BIN)/interpol-mesh load --ncbs all --rate $(RATE) --duration $(DURATION) --report $(REPORT) $(ARGS)

bench: $(STAMP) ## minimal pipeline, raw protocol (the mesh's work by hand) and the mesh on PostgreSQL (BENCH_DATABASE_URL), then the 196-NCB broadcast
	$(BIN)/python -m interpol_offices.loadtest.bench --json var/bench-report.json $(ARGS)

bench-ccc: $(STAMP) ## CCC: dispatch decisions/s, and intake-to-dispatch through the NCBs' API at 100 and 1,000 ops/s (BENCH_DATABASE_URL)
	$(BIN)/python -m interpol_offices.ccc_router.bench --json var/bench-ccc.json $(ARGS)

bench-police: $(STAMP) ## police databases: store.search against the raw indexed query on 1M documents, 200k vehicles, 100k persons (BENCH_DATABASE_URL)
	$(BIN)/python -m interpol_offices.police_data.bench --json var/bench-police.json $(ARGS)

clean: ## remove ./var (mesh data) and caches
	rm -rf var .pytest_cache .ruff_cache .mypy_cache

.PHONY: bench-regions
bench-regions: $(STAMP) ## R1 against R3 in the supercluster, side by side: raw JetStream publish and the mesh's APIs (msg/s, p50/p99)
	$(BIN)/python -m interpol_offices.loadtest.bench_replicas $(ARGS)
