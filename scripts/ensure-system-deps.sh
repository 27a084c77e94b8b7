# Sourced by run.sh and test.sh: RabbitMQ reachable and nginx installed, or a clear message.
RABBITMQ_URL="${RABBITMQ_URL:-amqp://guest:guest@127.0.0.1:5672/}"

rabbit_host_port() {
  python3 - "$RABBITMQ_URL" <<'PY'
import sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
print(u.hostname or "127.0.0.1", u.port or 5672)
PY
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# dispatch-svc partitions companies through a consistent-hash exchange: the plugin ships
# with RabbitMQ and only needs enabling (containers: `rabbitmq-plugins enable --offline
# rabbitmq_consistent_hash_exchange` in the image, or list it in `enabled_plugins`).
RABBITMQ_PLUGINS_NEEDED=rabbitmq_consistent_hash_exchange

ensure_rabbitmq_plugins() {
  local file=${RABBITMQ_ENABLED_PLUGINS_FILE:-/etc/rabbitmq/enabled_plugins}
  if [ -r "$file" ] && grep -q "$RABBITMQ_PLUGINS_NEEDED" "$file"; then return 0; fi
  if command -v rabbitmq-plugins >/dev/null; then
    echo "==> enabling RabbitMQ's $RABBITMQ_PLUGINS_NEEDED plugin (dispatch's company partitions)"
    rabbitmq-plugins enable "$RABBITMQ_PLUGINS_NEEDED" >/dev/null && return 0
  fi
  echo "RabbitMQ needs the $RABBITMQ_PLUGINS_NEEDED plugin (rabbitmq-plugins enable $RABBITMQ_PLUGINS_NEEDED)," >&2
  echo "or run dispatch-svc with PARTITIONS=0 (workers then compete for every event)." >&2
  return 1
}

ensure_rabbitmq() {
  read -r host port < <(rabbit_host_port)
  local local_server=false
  [[ "$host" =~ ^(127\.0\.0\.1|localhost)$ ]] && command -v rabbitmq-server >/dev/null && local_server=true
  if port_open "$host" "$port"; then
    if $local_server; then ensure_rabbitmq_plugins || return 1; fi
    return 0
  fi
  if $local_server; then
    echo "==> RabbitMQ is down at $host:$port: starting the local server"
    rabbitmq-server -detached
    for _ in $(seq 1 90); do port_open "$host" "$port" && { ensure_rabbitmq_plugins; return; }; sleep 1; done
  fi
  echo "RabbitMQ is not reachable at $RABBITMQ_URL." >&2
  echo "Install and start one (apt-get install rabbitmq-server && rabbitmq-server -detached)," >&2
  echo "or run one in a container (docker run -p 5672:5672 rabbitmq:3-management)," >&2
  echo "or point RABBITMQ_URL at yours." >&2
  return 1
}

ensure_nginx() {
  command -v nginx >/dev/null && return 0
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "==> installing nginx (the gateway) from Debian's packages"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
    command -v nginx >/dev/null && return 0
  fi
  echo "nginx is needed for the gateway: install it (apt-get install nginx) and retry." >&2
  return 1
}
export PATH="$PATH:/usr/sbin:/sbin"

ensure_chromium() {
  [ -x /usr/bin/chromium ] && return 0
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "==> installing Debian's chromium for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    [ -x /usr/bin/chromium ] && return 0
  fi
  echo "The browser tests need Debian's chromium at /usr/bin/chromium (apt-get install chromium)." >&2
  return 1
}
