# kefu — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SUM := $(shell cksum pyproject.toml | cut -d' ' -f1)
# `make run` installs kefu alone; `make test` adds the dev extra (test tools, the bot's
# embeddings backend with torch's CPU build), which a user who only runs kefu never needs.
RUN_STAMP := $(VENV)/.installed-run-$(SUM)
STAMP := $(VENV)/.installed-dev-$(SUM)
HOST ?= 127.0.0.1

.PHONY: install run test lint typecheck test-pg clean web chromium

$(RUN_STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@rm -f $(VENV)/.installed-run-*
	@touch $(RUN_STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP) $(RUN_STAMP)

install: $(STAMP) web chromium

## Front ends: every web/<app> with a package.json is built with `npm ci && npm run build` into
## src/kefu/static/<app>/ (generated, git-ignored), again only when a file under web/<app> changed.
WEB_APPS := $(patsubst web/%/package.json,%,$(wildcard web/*/package.json))
WEB_BUILT := $(WEB_APPS:%=src/kefu/static/%/.built)

web: $(WEB_BUILT)

# npm's own stamp of an installed tree; kept, so `npm ci` runs again only when the lock changes.
.PRECIOUS: web/%/node_modules/.package-lock.json
web/%/node_modules/.package-lock.json: web/%/package-lock.json web/%/package.json
	cd web/$* && npm ci --no-audit --no-fund --loglevel=error

.SECONDEXPANSION:
src/kefu/static/%/.built: web/%/node_modules/.package-lock.json \
		$$(shell find web/$$* -path web/$$*/node_modules -prune -o -type f -print)
	cd web/$* && npm run build --silent
	@touch $@

## Browser tests drive Debian's Chromium (never a downloaded browser build).
CHROMIUM := /usr/bin/chromium
AS_ROOT := $(shell [ "$$(id -u)" = 0 ] || echo sudo -n)

chromium: $(CHROMIUM)

$(CHROMIUM):
	$(AS_ROOT) apt-get -o DPkg::Lock::Timeout=600 update -qq
	$(AS_ROOT) env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
		install -y -qq --no-install-recommends chromium

## Start kefu with a demo workspace on SQLite (KEFU_PORT, KEFU_DATA_DIR, KEFU_DEMO_PASSWORD apply).
run: $(RUN_STAMP) web
	$(BIN)/kefu demo --host $(HOST) $(if $(KEEP),--keep)

## The package as a user installs it (scripts/check_wheel.py): sdist and wheel with the web apps
## built in, the wheel installed into a fresh venv with no Node on the PATH, `/app` and the
## widget fetched from its `kefu demo`. Prints the sizes and the time of each step.
.PHONY: check-wheel
check-wheel: install web
	$(BIN)/python scripts/check_wheel.py

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: install
	$(BIN)/mypy

## The whole suite on SQLite and the in-process bus (PostgreSQL/Redis suites: see `make test-pg`),
## browser tests included (tests/browser: Playwright driving Debian's Chromium), and the Vitest
## suite of every web app that has one (npm run test). PYTEST_WORKERS processes (pytest-xdist;
## each has its own database, and its own Redis database under test-pg); 0 runs in one process.
PYTEST_WORKERS ?= 2
PYTEST_PAR := $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS))
test: lint typecheck web chromium
	@for app in $(WEB_APPS); do (cd web/$$app && npm run test --if-present --silent) || exit 1; done
	$(BIN)/pytest $(PYTEST_PAR)

## The suite again on PostgreSQL and Redis (the URLs below are the defaults .ci/run uses).
test-pg: install
	KEFU_TEST_DATABASE_URL=$${KEFU_TEST_DATABASE_URL:-postgresql+asyncpg://postgres@127.0.0.1:5432/postgres} \
	KEFU_TEST_REDIS_URL=$${KEFU_TEST_REDIS_URL:-redis://127.0.0.1:6379/0} \
	$(BIN)/pytest $(PYTEST_PAR)

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache src/kefu/static/*/ web/*/node_modules

## Benchmarks (see benchmarks/README.md): `make bench` runs every scenario (several minutes),
## `make bench-quick` the core ones in under a minute. Both write benchmarks/results/latest.json,
## print a table and draw a chart. Extra flags: BENCH_ARGS="--profile" (py-spy on the server).
.PHONY: bench bench-quick
BENCH_ARGS ?=

bench: install
	$(BIN)/python -m benchmarks.run --full $(BENCH_ARGS)

bench-quick: install
	$(BIN)/python -m benchmarks.run --quick $(BENCH_ARGS)

## The chaos suite (benchmarks/chaos.py, docs/deployment.md "Faults"): two `kefu serve` nodes on a
## PostgreSQL and a Redis of its own (free ports; the machine's shared servers are not touched),
## customers that resend, and one fault at a time (node kill -9 and SIGSTOP, Redis and PostgreSQL
## restarts, a SQLite node's restart, a slow agent socket, a client far behind). Prints a table
## and writes benchmarks/results/chaos.json; fails if an acknowledged message was lost or
## duplicated or a listener saw a hole. About 6 minutes; `.ci/run` runs the reduced set
## (CHAOS_ARGS=--quick, about 2 minutes).
.PHONY: chaos
CHAOS_ARGS ?=

chaos: install
	$(BIN)/python -m benchmarks.chaos $(CHAOS_ARGS)

## The API against its own contract (/openapi.json): schemathesis with every check, for
## FUZZ_SECONDS (default 600), on a fresh demo workspace signed in as its admin (docs/api.md).
.PHONY: fuzz
FUZZ_SECONDS ?= 600

fuzz: install
	FUZZ_SECONDS=$(FUZZ_SECONDS) $(BIN)/python scripts/fuzz.py
