#!/usr/bin/env bash
# `make test`: lint, then every tier — unit, integration (real RabbitMQ + MongoDB-wire) and
# end-to-end through the gateway, browser included — in one pytest run. Extra arguments go
# to pytest. What it may install is announced before it happens (ensure-system-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/lint.sh
echo "==> system dependencies: RabbitMQ running, nginx (gateway) and chromium (browser tests) installed"
source scripts/ensure-system-deps.sh
ensure_rabbitmq
ensure_nginx
ensure_chromium
mkdir -p artifacts
# The slowest tests are listed at the end, so a run that got slower says where.
exec uv run --no-sync pytest libs services deploy tests-e2e --durations=15 "$@"
