# The two commands of the README: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
ENV := source scripts/env.sh &&

.PHONY: run test unit lint sync snapshots bench

sync:            ## install uv (if missing) and every workspace member
	@$(ENV) echo "==> uv sync: the workspace (libs/, services/ and the dev tools) into .venv, from uv.lock" && \
		uv sync --all-packages --frozen --quiet

REPLICAS ?= 1

run: sync        ## start RabbitMQ check, embedded MongoDB, the four services and the gateway (REPLICAS=2: each twice)
	@$(ENV) REPLICAS=$(REPLICAS) bash scripts/run.sh

test: sync       ## lint, then every test tier (unit, integration, end-to-end, browser)
	@$(ENV) bash scripts/test.sh

unit: sync       ## the tests that need no broker, database or gateway (well under a minute)
	@$(ENV) uv run --no-sync pytest libs services deploy -m "not integration and not e2e" -q -p no:cacheprovider $(ARGS)

lint: sync       ## ruff (lint + format check) and mypy over libs and services
	@$(ENV) bash scripts/lint.sh

bench: sync      ## load benchmark against the floor (table + plot in bench/results/)
	@$(ENV) source scripts/ensure-system-deps.sh && ensure_rabbitmq && ensure_nginx && uv run --no-sync python -m bench.run $(ARGS)

snapshots: sync  ## regenerate committed JSON Schemas and AsyncAPI documents
	@$(ENV) UPDATE_SNAPSHOTS=1 uv run pytest -q libs/contracts services -k "asyncapi or schemas"
