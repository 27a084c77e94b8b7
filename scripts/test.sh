#!/usr/bin/env bash
# `make test`: every tier — unit, integration (real RabbitMQ + MongoDB-wire) and end-to-end
# through the gateway — in one pytest run. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-system-deps.sh
ensure_rabbitmq
ensure_nginx
ensure_chromium
mkdir -p artifacts
exec uv run --no-sync pytest libs services deploy tests-e2e "$@"
