# kefu — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
HOST ?= 127.0.0.1

.PHONY: install run test lint typecheck test-pg clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

## Start kefu with a demo workspace on SQLite (KEFU_PORT, KEFU_DATA_DIR, KEFU_DEMO_PASSWORD apply).
run: install
	$(BIN)/kefu demo --host $(HOST)

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: install
	$(BIN)/mypy

## The whole suite on SQLite and the in-process bus (PostgreSQL/Redis suites: see `make test-pg`).
test: lint typecheck
	$(BIN)/pytest

## The suite again on PostgreSQL and Redis (the URLs below are the defaults .ci/run uses).
test-pg: install
	KEFU_TEST_DATABASE_URL=$${KEFU_TEST_DATABASE_URL:-postgresql+asyncpg://postgres@127.0.0.1:5432/postgres} \
	KEFU_TEST_REDIS_URL=$${KEFU_TEST_REDIS_URL:-redis://127.0.0.1:6379/0} \
	$(BIN)/pytest

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache

## Benchmarks (see benchmarks/README.md): `make bench` runs every scenario (several minutes),
## `make bench-quick` the core ones in under a minute. Both write benchmarks/results/latest.json,
## print a table and draw a chart. Extra flags: BENCH_ARGS="--profile" (py-spy on the server).
.PHONY: bench bench-quick
BENCH_ARGS ?=

bench: install
	$(BIN)/python -m benchmarks.run --full $(BENCH_ARGS)

bench-quick: install
	$(BIN)/python -m benchmarks.run --quick $(BENCH_ARGS)
