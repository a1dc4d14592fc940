"""Real ``kefu serve`` processes for the multi-node suite.

A :class:`Cluster` starts nodes as subprocesses (``kefu serve --no-migrate``) on free
loopback ports, all on the test session's database (and Redis, when configured), waits for
``GET /readyz``, and always terminates — or kills — every node it started when the test ends.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from kefu.config import Settings

TEST_DB = os.environ.get("KEFU_TEST_DATABASE_URL", "")
TEST_REDIS = os.environ.get("KEFU_TEST_REDIS_URL", "")
HEALTH_TIMEOUT = 120.0  # generous: a loaded CI machine can take long to import and start a node
STOP_TIMEOUT = 10.0

needs_pg_and_redis = pytest.mark.skipif(
    not (TEST_DB and TEST_REDIS and TEST_DB.startswith("postgresql")),
    reason=(
        "two kefu nodes need a shared PostgreSQL and Redis: run `make test-pg`, or set "
        "KEFU_TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/postgres and "
        "KEFU_TEST_REDIS_URL=redis://127.0.0.1:6379/0"
    ),
)


def _kefu_command() -> list[str]:
    script = Path(sys.executable).parent / "kefu"
    kefu = [str(script)] if script.exists() else [sys.executable, "-m", "kefu.cli"]
    if not sys.platform.startswith("linux"):
        return kefu
    # On Linux the node asks to be killed when the test run dies (PR_SET_PDEATHSIG), then
    # becomes ``kefu serve``: a test run that is itself killed leaves no server behind.
    die_with_parent = (
        "import ctypes, os, signal, sys; "
        "ctypes.CDLL(None).prctl(1, signal.SIGKILL); "
        "os.execv(sys.argv[1], sys.argv[1:])"
    )
    return [sys.executable, "-c", die_with_parent, *kefu]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Node:
    """One ``kefu serve`` process."""

    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def http(self, token: str | None = None, **kw: Any) -> httpx.AsyncClient:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30, **kw)

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flushing, sockets torn down by the kernel."""
        if self.running:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(STOP_TIMEOUT)

    def stop(self) -> None:
        if self.running:
            self.proc.terminate()
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(STOP_TIMEOUT)


class Cluster:
    """Starts nodes sharing one database (and, with ``redis=True``, one Redis)."""

    def __init__(self, settings: Settings, workdir: Path) -> None:
        self.settings = settings
        self.workdir = workdir
        self.nodes: list[Node] = []

    def _env(self, port: int, *, redis: bool, extra: dict[str, str]) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
        env |= {
            "KEFU_MODE": "test",
            "KEFU_HOST": "127.0.0.1",
            "KEFU_PORT": str(port),
            "KEFU_DATABASE_URL": self.settings.effective_database_url,
            "KEFU_SECRET_KEY": self.settings.secret_key,
            "KEFU_DATA_DIR": str(self.workdir),
            "KEFU_RUN_WORKER": "true",
            "KEFU_LOGIN_ATTEMPTS_PER_MINUTE": "1000",
            "KEFU_CUSTOMER_SENDS_PER_MINUTE": "1000000",
            "KEFU_CUSTOMER_SENDS_PER_MINUTE_PER_IP": "1000000",
            "KEFU_CONVERSATION_STARTS_PER_MINUTE": "1000000",
            "KEFU_CONVERSATION_STARTS_PER_MINUTE_PER_IP": "1000000",
            "KEFU_LOG_LEVEL": "warning",
        }
        if redis:
            if not self.settings.redis_url:
                raise RuntimeError("a node on Redis was asked for, but no Redis is configured")
            env["KEFU_REDIS_URL"] = self.settings.redis_url
        return env | extra

    def spawn(
        self,
        *,
        redis: bool = True,
        env: dict[str, str] | None = None,
        command: list[str] | None = None,
    ) -> Node:
        """Start a node: ``kefu serve --no-migrate``, or ``command`` (which reads the same
        ``KEFU_*`` environment)."""
        port = free_port()
        name = f"node{len(self.nodes)}"
        log_path = self.workdir / f"{name}.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                command or [*_kefu_command(), "serve", "--no-migrate"],
                env=self._env(port, redis=redis, extra=env or {}),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        node = Node(name, port, proc, log_path)
        self.nodes.append(node)
        return node

    def spawn_worker(self, *, env: dict[str, str] | None = None) -> Node:
        """Start a ``kefu worker`` process (on Redis): a node with no port, running only jobs."""
        name = f"worker{len(self.nodes)}"
        log_path = self.workdir / f"{name}.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [*_kefu_command(), "worker"],
                env=self._env(free_port(), redis=True, extra=env or {}),  # port unused
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        node = Node(name, 0, proc, log_path)
        self.nodes.append(node)
        return node

    async def wait_healthy(self, node: Node) -> None:
        deadline = time.monotonic() + HEALTH_TIMEOUT
        async with httpx.AsyncClient(base_url=node.url, timeout=2) as client:
            while True:
                if not node.running:
                    raise RuntimeError(f"{node.name} exited:\n{node.log_tail()}")
                try:
                    r = await client.get("/readyz")
                    if r.status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{node.name} never became healthy:\n{node.log_tail()}")
                await asyncio.sleep(0.05)

    async def start(
        self, n: int = 1, *, redis: bool = True, env: dict[str, str] | None = None
    ) -> list[Node]:
        """Start ``n`` nodes and return once every one answers ``/readyz``."""
        nodes = [self.spawn(redis=redis, env=env) for _ in range(n)]
        await asyncio.gather(*(self.wait_healthy(node) for node in nodes))
        return nodes

    def stop_all(self) -> None:
        for node in self.nodes:
            if node.running:
                node.proc.terminate()
        for node in self.nodes:
            try:
                node.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                node.proc.kill()
                node.proc.wait(STOP_TIMEOUT)
