"""The whole system as separate processes behind the real gateway (end-to-end tests, benchmark).

`System(backends, run_dir, replicas=N)` starts N processes of every service, each on its own
port, and nginx with one upstream group per service listing them all (round robin, a dead
replica skipped). Every process writes its output to `run_dir/logs/<service>-<index>.log`
and nginx to `run_dir/logs/gateway.log`, so tests can read what was logged.
"""

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

from testkit.backends import REPO_ROOT, free_port, wait_for_port
from testkit.plugin import Backends
from testkit.services import ServiceProcess, wait_ready

SERVICES = {
    "portal-svc": "portal_svc",
    "presence-svc": "presence_svc",
    "dispatch-svc": "dispatch_svc",
    "chat-svc": "chat_svc",
    "webhook-svc": "webhook_svc",
}


class System:
    def __init__(
        self,
        backends: Backends,
        run_dir: Path,
        *,
        replicas: int = 1,
        dispatch_workers: int | None = None,
        env: dict[str, str] | None = None,
        ready_timeout: float = 90.0,
    ) -> None:
        """`replicas` processes of every service; `dispatch_workers`, when given, overrides
        the count for dispatch-svc alone (the benchmark scales only that one);
        `ready_timeout` bounds the wait for every process at start."""
        self.ready_timeout = ready_timeout
        self.backends = backends
        self.run_dir = run_dir
        self.log_dir = run_dir / "logs"
        self.replicas = replicas
        self.gateway_port = free_port()
        self.extra_env = env or {}
        self.processes: dict[str, list[ServiceProcess]] = {}
        counts = {name: replicas for name in SERVICES}
        if dispatch_workers is not None:
            counts["dispatch-svc"] = dispatch_workers
        ports = {name: [free_port() for _ in range(count)] for name, count in counts.items()}
        shared = {
            # portal-svc reads presence snapshots: with one replica straight from it, with more
            # through the gateway, which skips a dead one (as a Kubernetes Service would).
            "PRESENCE_URL": (
                f"http://127.0.0.1:{ports['presence-svc'][0]}" if counts["presence-svc"] == 1 else self.gateway_url
            ),
            "PUBLIC_BASE_URL": self.gateway_url,
            **self.extra_env,
        }
        for name, package in SERVICES.items():
            self.processes[name] = [
                ServiceProcess(
                    package,
                    {**backends.env(name), **shared, **self._only_once(name, index)},
                    port=port,
                    log_path=self.log_dir / f"{name}-{index}.log",
                )
                for index, port in enumerate(ports[name])
            ]
        self.gateway: subprocess.Popen[bytes] | None = None

    @staticmethod
    def _only_once(name: str, index: int) -> dict[str, str]:
        """What only the first replica does: seeding the demo account (idempotent, but two
        replicas racing to create it at start-up is not what `make run` does either)."""
        return {"SEED_DEMO": "false"} if name == "portal-svc" and index > 0 else {}

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    @property
    def gateway_log(self) -> Path:
        return self.log_dir / "gateway.log"

    def service(self, name: str, index: int = 0) -> ServiceProcess:
        return self.processes[name][index]

    def log_files(self) -> list[Path]:
        """Every log file written so far: the gateway's and each service process's."""
        return sorted(self.log_dir.glob("*.log"))

    def _render_gateway(self) -> Path:
        args = [
            sys.executable,
            str(REPO_ROOT / "deploy/local/gateway.py"),
            "--run-dir",
            str(self.run_dir / "gateway"),
            "--port",
            str(self.gateway_port),
        ]
        for name, processes in self.processes.items():
            for process in processes:
                args += [f"--{name.removesuffix('-svc')}", f"127.0.0.1:{process.port}"]
        return Path(subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip())

    async def start(self) -> None:
        for processes in self.processes.values():
            for process in processes:
                process.start()
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        config = self._render_gateway()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with self.gateway_log.open("ab") as sink:
            self.gateway = subprocess.Popen([nginx, "-c", str(config)], stdout=sink, stderr=subprocess.STDOUT)
        await asyncio.to_thread(wait_for_port, "127.0.0.1", self.gateway_port, 30)
        await self.wait_ready(self.ready_timeout)

    async def wait_ready(self, timeout: float = 90.0, *, running_only: bool = False) -> None:
        """Every process (with `running_only`, every one not killed by the test) answers
        `/ready` directly, and every service through the gateway."""
        for name, processes in self.processes.items():
            prefix = "/api/" + name.removesuffix("-svc")
            for process in processes:
                if process.running or not running_only:
                    await wait_ready(process.base_url, prefix + "/ready", timeout)
            await wait_ready(self.gateway_url, prefix + "/ready", timeout)

    async def restart(self, name: str, index: int) -> ServiceProcess:
        """Starts a (killed or stopped) replica again on its port and waits until it is ready."""
        process = self.service(name, index)
        process.stop()
        process.start()
        await wait_ready(process.base_url, "/api/" + name.removesuffix("-svc") + "/ready", 90)
        return process

    def stop(self) -> None:
        if self.gateway and self.gateway.poll() is None:
            self.gateway.terminate()
            self.gateway.wait(timeout=10)
        for processes in self.processes.values():
            for process in processes:
                process.stop()
