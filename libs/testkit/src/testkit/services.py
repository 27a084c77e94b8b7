"""Running service apps for tests: in-process on a real port, or as separate processes."""

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from testkit.backends import free_port


@asynccontextmanager
async def serve_in_process(app: Any, *, port: int | None = None) -> AsyncIterator[str]:
    """Serve an ASGI app (lifespan included) on a real loopback port; yields its base URL."""
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()  # surfaces the start-up error
                raise RuntimeError("server stopped during start-up")
            await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=30)


async def wait_ready(base_url: str, ready_path: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                response = await client.get(base_url + ready_path, timeout=2)
                if response.status_code == 200:
                    return
                last = response.text
            except httpx.HTTPError as error:
                last = repr(error)
            await asyncio.sleep(0.2)
    raise TimeoutError(f"{base_url}{ready_path} not ready after {timeout}s: {last}")


class ServiceProcess:
    """One service as its own OS process (`python -m <package>`), as in production.

    With `log_path`, stdout and stderr go to that file (appended across restarts, so a test can
    grep what a killed process said); without, they stay on the terminal.
    """

    def __init__(
        self, package: str, env: Mapping[str, str], *, port: int | None = None, log_path: Path | None = None
    ) -> None:
        self.package = package
        self.port = port or free_port()
        self.log_path = log_path
        # Development mode: tests sign tokens with the development JWT secret.
        self.env = {
            **os.environ,
            "ASSISTLINE_DEV_MODE": "1",
            # A suite's actors sign in once and act for longer than the production access
            # lifetime; the refresh path has its own tests, which set a short lifetime.
            "STAFF_TOKEN_TTL_SECONDS": "3600",
            **env,
            "HTTP_PORT": str(self.port),
            "LOG_JSON": "true",
            # Lines reach the log file as they are written, not when a buffer fills (or never,
            # for a process killed with SIGKILL).
            "PYTHONUNBUFFERED": "1",
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        if self.log_path is None:
            self.process = subprocess.Popen([sys.executable, "-m", self.package], env=self.env)
            return
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as sink:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                [sys.executable, "-m", self.package], env=self.env, stdout=sink, stderr=subprocess.STDOUT
            )

    def kill(self) -> None:
        """SIGKILL: no clean-up runs, as in a crash."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
