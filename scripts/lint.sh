#!/usr/bin/env bash
# `make lint`: ruff (lint rules and formatting) over libs and services, tests included, and
# mypy over their sources. Configuration: the root pyproject.toml. `make test` runs it first.
set -euo pipefail
cd "$(dirname "$0")/.."
PATHS=(libs services)
PACKAGES=(contracts servicekit testkit portal_svc presence_svc dispatch_svc chat_svc webhook_svc)
status=0
echo "==> ruff check ${PATHS[*]}"
uv run --no-sync ruff check "${PATHS[@]}" || status=1
echo "==> ruff format --check ${PATHS[*]}"
uv run --no-sync ruff format --check "${PATHS[@]}" || status=1
echo "==> mypy ${PACKAGES[*]}"
uv run --no-sync mypy "${PACKAGES[@]/#/-p}" || status=1
exit $status
