#!/usr/bin/env bash
# `make run`: the whole system on embedded defaults, stopped cleanly by Ctrl-C.
# `make run REPLICAS=2` starts every service twice behind the gateway: replica i of a service
# listens on its base port + 10*(i-1) (portal 8101, 8111, …; presence 8102, 8112, …).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-system-deps.sh
ensure_rabbitmq
ensure_nginx

VAR="$PWD/var"
GATEWAY_PORT="${GATEWAY_PORT:-8080}"
REPLICAS="${REPLICAS:-1}"
if ! [[ "$REPLICAS" =~ ^[1-9]$ ]]; then
  echo "REPLICAS must be a number from 1 to 9 (got '$REPLICAS')" >&2
  exit 2
fi
declare -A BASE_PORT=([portal]=8101 [presence]=8102 [dispatch]=8103 [chat]=8104 [webhook]=8105)
mkdir -p "$VAR/mongo" "$VAR/gateway"
export RABBITMQ_URL
export PUBLIC_BASE_URL="${PUBLIC_BASE_URL:-http://localhost:$GATEWAY_PORT}"
# portal-svc reads presence snapshots: straight from the one replica, or through the gateway,
# which balances them and skips a dead one.
if [ "$REPLICAS" = 1 ]; then
  export PRESENCE_URL="http://127.0.0.1:8102"
else
  export PRESENCE_URL="http://127.0.0.1:$GATEWAY_PORT"
fi
export SMTP_HOST=127.0.0.1 SMTP_PORT="${SMTP_PORT:-1025}"
# honcho pipes each process's output (no terminal): ask for console lines, not JSON, so the
# one interleaved stream reads as "time portal.1 | 12:00:01 [info] event consumed  outcome=ack ...".
export LOG_JSON="${LOG_JSON:-false}"
# A laptop run signs tokens with the development JWT secret, which services only accept here.
export ASSISTLINE_DEV_MODE=1

UPSTREAMS=()
for service in portal presence dispatch chat webhook; do
  for ((i = 0; i < REPLICAS; i++)); do
    UPSTREAMS+=("--$service" "127.0.0.1:$((BASE_PORT[$service] + 10 * i))")
  done
done
uv run --no-sync python deploy/local/gateway.py --run-dir "$VAR/gateway" --port "$GATEWAY_PORT" "${UPSTREAMS[@]}" >/dev/null

PY="uv run --no-sync python"
# Without MONGODB_URL every service gets an embedded MongoDB-wire server of its own (portal on
# 27017, presence 27018, dispatch 27019, chat 27020, webhook 27021): mongoeco serves a server's
# commands from one thread, so one server for all would queue every service behind the others.
declare -A STORE=()
if [ -z "${MONGODB_URL:-}" ]; then
  port=27017
  for service in portal presence dispatch chat webhook; do
    STORE[$service]="MONGODB_URL=mongodb://127.0.0.1:$port/?directConnection=true "
    port=$((port + 1))
  done
fi
{
  if [ -z "${MONGODB_URL:-}" ]; then
    port=27017
    for service in portal presence dispatch chat webhook; do
      echo "mongo-$service: $PY deploy/local/embedded_mongo.py --port $port --path $VAR/mongo/$service.sqlite"
      port=$((port + 1))
    done
  fi
  echo "smtp: $PY -m aiosmtpd -n -l 127.0.0.1:$SMTP_PORT"
  # honcho starts REPLICAS copies of each service (portal.1, portal.2, …, see -c below); each
  # derives its port from its number. Only portal.1 seeds the demo account.
  REPLICA='i=${HONCHO_PROCESS_NAME##*.};'
  echo "portal: $REPLICA HTTP_PORT=\$((8091 + 10 * i)) SEED_DEMO=\$([ \$i = 1 ] && echo true || echo false) ${STORE[portal]:-}exec $PY -m portal_svc"
  echo "presence: $REPLICA HTTP_PORT=\$((8092 + 10 * i)) ${STORE[presence]:-}exec $PY -m presence_svc"
  echo "dispatch: $REPLICA HTTP_PORT=\$((8093 + 10 * i)) ${STORE[dispatch]:-}exec $PY -m dispatch_svc"
  echo "chat: $REPLICA HTTP_PORT=\$((8094 + 10 * i)) ${STORE[chat]:-}exec $PY -m chat_svc"
  echo "webhook: $REPLICA HTTP_PORT=\$((8095 + 10 * i)) ${STORE[webhook]:-}exec $PY -m webhook_svc"
  echo "gateway: nginx -c $VAR/gateway/nginx.conf"
  echo "ready: $PY deploy/local/announce.py http://localhost:$GATEWAY_PORT"
} > "$VAR/Procfile"

echo "==> starting Assistline, $REPLICAS replica(s) of every service (Ctrl-C stops everything)"
exec uv run --no-sync honcho -f "$VAR/Procfile" -d . start \
  -c "portal=$REPLICAS,presence=$REPLICAS,dispatch=$REPLICAS,chat=$REPLICAS,webhook=$REPLICAS"
