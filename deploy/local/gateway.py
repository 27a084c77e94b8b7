"""Render the gateway's nginx configuration for a local run (make run, tests).

docker compose renders the same template with the nginx image's envsubst; here the
upstreams are loopback ports. Usage:
  python deploy/local/gateway.py --run-dir var/gateway --port 8080 \\
      --portal 127.0.0.1:8101 --portal 127.0.0.1:8111 --presence 127.0.0.1:8102 \\
      --dispatch 127.0.0.1:8103 --dispatch 127.0.0.1:8113 --chat 127.0.0.1:8104 \\
      --webhook 127.0.0.1:8105
(repeat an option once per replica of that service)
then: nginx -c var/gateway/nginx.conf
"""

import argparse
import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[1] / "gateway"
UI_ROOT = Path(__file__).resolve().parents[2] / "ui"
MIME_TYPES = "/etc/nginx/mime.types"
SERVICES = ("portal", "presence", "dispatch", "chat", "webhook")


def substitute(template: str, values: dict[str, str]) -> str:
    """Replace `${NAME}` for the given names only (nginx's own `$vars` stay)."""
    return re.sub(r"\$\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), template)


# Passive health check: one refused connection (or 502/503) takes a replica out for 5 s.
# nginx ignores these with a single server, which is then never considered down.
HEALTH = "max_fails=1 fail_timeout=5s"


def servers(addresses: list[str]) -> str:
    """One `server` line per replica of a service."""
    return " ".join(f"server {address} {HEALTH};" for address in addresses)


def render(run_dir: Path, port: int, upstreams: dict[str, list[str]]) -> Path:
    run_dir = run_dir.resolve()
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (run_dir / "tmp" / sub).mkdir(parents=True, exist_ok=True)
        # nginx workers run as an unprivileged user when started by root.
        (run_dir / "tmp" / sub).chmod(0o1777)
    values = {
        "GATEWAY_PORT": str(port),
        "GATEWAY_RUN_DIR": str(run_dir),
        "UI_ROOT": str(UI_ROOT),
        "MIME_TYPES": MIME_TYPES,
        **{f"{name.upper()}_SVC_SERVERS": servers(addrs) for name, addrs in upstreams.items()},
    }
    (run_dir / "assistline.conf").write_text(substitute((TEMPLATES / "assistline.conf.template").read_text(), values))
    main_conf = run_dir / "nginx.conf"
    main_conf.write_text(substitute((TEMPLATES / "nginx.local.conf.template").read_text(), values))
    return main_conf


def main() -> None:
    parser = argparse.ArgumentParser(description="Render the local gateway configuration.")
    parser.add_argument("--run-dir", type=Path, default=Path("var/gateway"))
    parser.add_argument("--port", type=int, default=8080)
    for name in SERVICES:
        parser.add_argument(f"--{name}", action="append", required=True, metavar="HOST:PORT")
    args = parser.parse_args()
    upstreams = {name: getattr(args, name) for name in SERVICES}
    print(render(args.run_dir, args.port, upstreams))


if __name__ == "__main__":
    main()
