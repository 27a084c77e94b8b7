"""Choosing the real backends a test run talks to.

Order of preference: `RABBITMQ_URL` / `MONGODB_URL` when set; else containers when a
Docker engine answers; else the local RabbitMQ and an embedded MongoDB-wire server.
Each run gets its own RabbitMQ vhost and its own database names, so runs sharing one
broker (a developer's `make run`, CI, another suite) never see each other's messages.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[4]
LOCAL_RABBITMQ = "amqp://guest:guest@127.0.0.1:5672/"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(host: str, port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")


def docker_engine_available() -> bool:
    if os.environ.get("ASSISTLINE_NO_DOCKER") or not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def with_vhost(url: str, vhost: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + urllib.parse.quote(vhost, safe="")))


@contextmanager
def isolated_vhost(url: str, vhost: str) -> Iterator[str]:
    """A fresh vhost on the broker at `url`, deleted afterwards.

    Uses `rabbitmqctl` (the broker on this machine); where it is missing the URL's own vhost
    is used and isolation rests on the unique queue and database names of the run.
    """
    ctl = shutil.which("rabbitmqctl")
    host = urllib.parse.urlsplit(url).hostname
    if not ctl or host not in {"127.0.0.1", "localhost"}:
        yield url
        return
    user = urllib.parse.urlsplit(url).username or "guest"
    subprocess.run([ctl, "add_vhost", vhost], check=True, capture_output=True, timeout=60)
    subprocess.run(
        [ctl, "set_permissions", "-p", vhost, user, ".*", ".*", ".*"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    try:
        yield with_vhost(url, vhost)
    finally:
        subprocess.run([ctl, "delete_vhost", vhost], capture_output=True, timeout=60)


def ensure_local_rabbitmq(url: str = LOCAL_RABBITMQ) -> None:
    host = urllib.parse.urlsplit(url).hostname or "127.0.0.1"
    port = urllib.parse.urlsplit(url).port or 5672
    try:
        wait_for_port(host, port, timeout=1)
        return
    except TimeoutError:
        pass
    if shutil.which("rabbitmq-server") and host in {"127.0.0.1", "localhost"}:
        subprocess.run(["rabbitmq-server", "-detached"], check=False)
        wait_for_port(host, port, timeout=90)
        return
    raise RuntimeError(
        f"RabbitMQ is not reachable at {url}: start one (rabbitmq-server -detached, or "
        "docker run -p 5672:5672 rabbitmq:3-management) or set RABBITMQ_URL"
    )


class EmbeddedMongo:
    """The mongoeco wire server, in its own process as in production runs."""

    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        self.path = data_dir / "mongo.sqlite"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Start the process without waiting for it (several then start side by side)."""
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(REPO_ROOT / "deploy/local/embedded_mongo.py"),
                "--port",
                str(self.port),
                "--path",
                str(self.path),
            ],
        )

    def wait_ready(self) -> None:
        wait_for_port("127.0.0.1", self.port, timeout=60)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def restart(self) -> None:
        """Stop and start on the same port and data (for fault tests)."""
        self.stop()
        self.start()


class EmbeddedStores:
    """One embedded server per service, as `make run` starts them (a database per service).

    mongoeco serves every command of a server from one worker thread, so a single server for
    the whole system caps it at one core's worth of store work, queued behind each other's
    commands; a server per service lets the services' store work run side by side. A real
    MongoDB takes one URL for every service instead."""

    def __init__(self, data_dir: Path, services: Iterable[str]) -> None:
        self.servers = {service: EmbeddedMongo(data_dir / service) for service in services}

    def urls(self) -> dict[str, str]:
        return {service: server.url for service, server in self.servers.items()}

    def pids(self) -> dict[str, int]:
        return {service: server.process.pid for service, server in self.servers.items() if server.process}

    def start(self) -> None:
        for server in self.servers.values():
            server.path.parent.mkdir(parents=True, exist_ok=True)
            server.launch()
        for server in self.servers.values():
            server.wait_ready()

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()


@contextmanager
def backends(run_id: str, data_dir: Path) -> Iterator[tuple[str, str, EmbeddedMongo | None]]:
    """Yields (rabbitmq_url, mongodb_url, embedded server or None) for a whole run."""
    with ExitStack() as stack:
        rabbit_url = os.environ.get("RABBITMQ_URL")
        mongo_url = os.environ.get("MONGODB_URL")
        embedded: EmbeddedMongo | None = None
        docker = (not rabbit_url or not mongo_url) and docker_engine_available()
        if not rabbit_url:
            if docker:
                from testcontainers.rabbitmq import RabbitMqContainer

                container = stack.enter_context(RabbitMqContainer("rabbitmq:3.13-management"))
                rabbit_url = (
                    f"amqp://guest:guest@{container.get_container_host_ip()}:{container.get_exposed_port(5672)}/"
                )
            else:
                ensure_local_rabbitmq()
                rabbit_url = LOCAL_RABBITMQ
        if not mongo_url:
            if docker:
                from testcontainers.mongodb import MongoDbContainer

                mongo_container = stack.enter_context(MongoDbContainer("mongo:7"))
                mongo_url = mongo_container.get_connection_url()
            else:
                embedded = EmbeddedMongo(data_dir)
                embedded.start()
                stack.callback(embedded.stop)
                mongo_url = embedded.url
        rabbit_url = stack.enter_context(isolated_vhost(rabbit_url, f"assistline-test-{run_id}"))
        yield rabbit_url, mongo_url, embedded
