#!/usr/bin/env bash
# `make run`: the whole system on embedded defaults, stopped cleanly by Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-system-deps.sh
ensure_rabbitmq
ensure_nginx

VAR="$PWD/var"
GATEWAY_PORT="${GATEWAY_PORT:-8080}"
mkdir -p "$VAR/mongo" "$VAR/gateway"
export RABBITMQ_URL
export PUBLIC_BASE_URL="${PUBLIC_BASE_URL:-http://localhost:$GATEWAY_PORT}"
export PRESENCE_URL="http://127.0.0.1:8102"
export SMTP_HOST=127.0.0.1 SMTP_PORT="${SMTP_PORT:-1025}"
# honcho pipes each process's output (no terminal): ask for console lines, not JSON, so the
# one interleaved stream reads as "time portal.1 | 12:00:01 [info] event consumed  outcome=ack ...".
export LOG_JSON="${LOG_JSON:-false}"
# A laptop run signs tokens with the development JWT secret, which services only accept here.
export ASSISTLINE_DEV_MODE=1

uv run --no-sync python deploy/local/gateway.py --run-dir "$VAR/gateway" --port "$GATEWAY_PORT" \
  --portal 127.0.0.1:8101 --presence 127.0.0.1:8102 --dispatch 127.0.0.1:8103 --chat 127.0.0.1:8104 >/dev/null

PY="uv run --no-sync python"
{
  if [ -z "${MONGODB_URL:-}" ]; then
    echo "mongo: $PY deploy/local/embedded_mongo.py --port 27017 --path $VAR/mongo/assistline.sqlite"
    export MONGODB_URL="mongodb://127.0.0.1:27017/?directConnection=true"
  fi
  echo "smtp: $PY -m aiosmtpd -n -l 127.0.0.1:$SMTP_PORT"
  echo "portal: HTTP_PORT=8101 SEED_DEMO=true $PY -m portal_svc"
  echo "presence: HTTP_PORT=8102 $PY -m presence_svc"
  echo "dispatch: HTTP_PORT=8103 $PY -m dispatch_svc"
  echo "chat: HTTP_PORT=8104 $PY -m chat_svc"
  echo "gateway: nginx -c $VAR/gateway/nginx.conf"
  echo "ready: $PY deploy/local/announce.py http://localhost:$GATEWAY_PORT"
} > "$VAR/Procfile"
export MONGODB_URL

echo "==> starting Assistline (Ctrl-C stops everything)"
exec uv run --no-sync honcho -f "$VAR/Procfile" -d . start
