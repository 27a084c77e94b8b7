"""The whole system as separate processes behind the real gateway (end-to-end tests, benchmark)."""

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
}


class System:
    def __init__(
        self,
        backends: Backends,
        run_dir: Path,
        *,
        dispatch_workers: int = 1,
        env: dict[str, str] | None = None,
    ) -> None:
        self.backends = backends
        self.run_dir = run_dir
        self.gateway_port = free_port()
        self.extra_env = env or {}
        self.processes: dict[str, list[ServiceProcess]] = {}
        ports = {name: free_port() for name in SERVICES}
        shared = {
            "PRESENCE_URL": f"http://127.0.0.1:{ports['presence-svc']}",
            "PUBLIC_BASE_URL": self.gateway_url,
            **self.extra_env,
        }
        for name, package in SERVICES.items():
            workers = dispatch_workers if name == "dispatch-svc" else 1
            self.processes[name] = [
                ServiceProcess(
                    package,
                    {**backends.env(name), **shared},
                    port=ports[name] if index == 0 else None,
                )
                for index in range(workers)
            ]
        self.gateway: subprocess.Popen[bytes] | None = None

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def service(self, name: str, index: int = 0) -> ServiceProcess:
        return self.processes[name][index]

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
        self.gateway = subprocess.Popen([nginx, "-c", str(self._render_gateway())])
        await asyncio.to_thread(wait_for_port, "127.0.0.1", self.gateway_port, 30)
        await self.wait_ready()

    async def wait_ready(self, timeout: float = 90.0) -> None:
        for name, processes in self.processes.items():
            prefix = "/api/" + name.removesuffix("-svc")
            for process in processes:
                await wait_ready(process.base_url, prefix + "/ready", timeout)
            await wait_ready(self.gateway_url, prefix + "/ready", timeout)

    def stop(self) -> None:
        if self.gateway and self.gateway.poll() is None:
            self.gateway.terminate()
            self.gateway.wait(timeout=10)
        for processes in self.processes.values():
            for process in processes:
                process.stop()
