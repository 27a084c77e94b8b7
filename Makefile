# The two commands of the README: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
ENV := source scripts/env.sh &&

.PHONY: run test sync snapshots bench lint

sync:            ## install uv (if missing) and every workspace member
	@$(ENV) uv sync --all-packages --frozen --quiet

run: sync        ## start RabbitMQ check, embedded MongoDB, the four services and the gateway
	@$(ENV) bash scripts/run.sh

test: sync       ## set up and run every test tier
	@$(ENV) bash scripts/test.sh

bench: sync      ## load benchmark against the floor (table + plot in bench/results/)
	@$(ENV) source scripts/ensure-system-deps.sh && ensure_rabbitmq && ensure_nginx && uv run --no-sync python -m bench.run $(ARGS)

snapshots: sync  ## regenerate committed JSON Schemas and AsyncAPI documents
	@$(ENV) UPDATE_SNAPSHOTS=1 uv run pytest -q libs/contracts services -k "asyncapi or schemas"
