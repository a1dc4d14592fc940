"""Process plumbing shared by the benchmark runner and its scenarios.

Every server under test, the load generator and the database baselines run as separate
processes on loopback. Each process started here is stopped by the code that started it.
"""

from __future__ import annotations

import contextlib
import os
import platform
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent
RESULTS = ROOT / "results"
PY = sys.executable
STOP_TIMEOUT = 10.0


def raise_nofile() -> int:
    """Raise this process's soft limit on open files to its hard limit (sockets are files)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def machine() -> dict[str, Any]:
    import psutil

    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "nofile_limit": resource.getrlimit(resource.RLIMIT_NOFILE)[1],
    }


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


@contextlib.contextmanager
def workdir(keep: bool = False) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="kefu-bench-"))
    try:
        yield path
    finally:
        if not keep:
            shutil.rmtree(path, ignore_errors=True)


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    port: int = 0

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def running(self) -> bool:
        return self.popen.poll() is None

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.running:
            self.popen.terminate()
            try:
                self.popen.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(STOP_TIMEOUT)


def spawn(name: str, args: list[str], log_dir: Path, env: dict[str, str] | None = None) -> Proc:
    log = log_dir / f"{name}.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(
            args,
            cwd=REPO,
            env=env if env is not None else dict(os.environ),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=raise_nofile,  # the child inherits the raised limit across exec
        )
    return Proc(name, popen, log)


def run_json(
    name: str,
    args: list[str],
    log_dir: Path,
    out: Path,
    timeout: float,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run a helper process to completion and read the JSON it wrote to ``out``."""
    proc = spawn(name, args, log_dir, env)
    try:
        rc = proc.popen.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.stop()
        raise RuntimeError(f"{name} did not finish in {timeout:.0f} s:\n{proc.tail()}") from None
    if rc != 0 or not out.exists():
        raise RuntimeError(f"{name} failed (exit {rc}):\n{proc.tail()}")
    data: dict[str, Any] = orjson.loads(out.read_bytes())
    return data


def wait_port(proc: Proc, port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.running:
            raise RuntimeError(f"{proc.name} exited:\n{proc.tail()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.02)
    raise TimeoutError(f"{proc.name} never listened on {port}:\n{proc.tail()}")


def wait_healthy(proc: Proc, port: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{port}/healthz"
    while time.monotonic() < deadline:
        if not proc.running:
            raise RuntimeError(f"{proc.name} exited:\n{proc.tail()}")
        with (
            contextlib.suppress(OSError, urllib.error.URLError),
            urllib.request.urlopen(url, timeout=1) as r,
        ):
            if r.status == 200:
                return
        time.sleep(0.03)
    raise TimeoutError(f"{proc.name} never became healthy:\n{proc.tail()}")


@dataclass
class KefuDeploy:
    """How the servers under test are configured: one database, optional Redis."""

    database_url: str
    data_dir: Path
    redis_url: str | None = None
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    extra: dict[str, str] = field(default_factory=dict)

    # The per-socket frame limits are raised: one generator socket carries many users' load.
    BENCH_ENV = {  # noqa: RUF012 - read-only
        "KEFU_WS_RATE_PER_SECOND": "1000000",
        "KEFU_WS_RATE_BURST": "1000000",
        "KEFU_WS_QUEUE_SIZE": "100000",
        "KEFU_LOGIN_ATTEMPTS_PER_MINUTE": "100000",
        "KEFU_CUSTOMER_SENDS_PER_MINUTE": "1000000",
        "KEFU_CUSTOMER_SENDS_PER_MINUTE_PER_IP": "1000000",
        "KEFU_CONVERSATION_STARTS_PER_MINUTE": "1000000",
        "KEFU_CONVERSATION_STARTS_PER_MINUTE_PER_IP": "1000000",
        "KEFU_RUN_WORKER": "true",
        "KEFU_LOG_LEVEL": "warning",
        "KEFU_MODE": "test",
    }

    def env(self, port: int = 8000) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
        env |= self.BENCH_ENV | {
            "KEFU_HOST": "127.0.0.1",
            "KEFU_PORT": str(port),
            "KEFU_DATABASE_URL": self.database_url,
            "KEFU_DATA_DIR": str(self.data_dir),
            "KEFU_SECRET_KEY": self.secret_key,
        }
        if self.redis_url:
            env["KEFU_REDIS_URL"] = self.redis_url
        return env | self.extra

    def settings_for_record(self) -> dict[str, str]:
        shown = dict(self.BENCH_ENV)
        shown["KEFU_DATABASE_URL"] = self.database_url.split("://", 1)[0] + "://…"
        if self.redis_url:
            shown["KEFU_REDIS_URL"] = "redis://127.0.0.1:6379/…"
        return shown | self.extra

    def spawn(self, name: str, log_dir: Path) -> Proc:
        port = free_port()
        proc = spawn(name, [PY, "-m", "kefu.cli", "serve", "--no-migrate"], log_dir, self.env(port))
        proc.port = port
        return proc

    def start(self, name: str, log_dir: Path) -> Proc:
        proc = self.spawn(name, log_dir)
        port = proc.port
        try:
            wait_healthy(proc, port)
        except Exception:
            proc.stop()
            raise
        return proc


def start_relay(module: str, name: str, log_dir: Path) -> Proc:
    port = free_port()
    proc = spawn(name, [PY, "-m", module, "--port", str(port)], log_dir)
    proc.port = port
    try:
        wait_port(proc, port)
    except Exception:
        proc.stop()
        raise
    return proc


def _seed_args(deploy: KefuDeploy, out: Path, migrate: bool, opts: dict[str, Any]) -> list[str]:
    args = [PY, "-m", "benchmarks.seed", "--db-url", deploy.database_url]
    args += ["--data-dir", str(deploy.data_dir), "--out", str(out)]
    if migrate:
        args.append("--migrate")
    for key, value in opts.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            args.append(flag)
        elif value not in (False, None):
            args += [flag, str(value)]
    return args


def seed(
    deploy: KefuDeploy,
    log_dir: Path,
    out: Path,
    *,
    migrate: bool = True,
    timeout: float = 900,
    **opts: Any,
) -> dict[str, Any]:
    args = _seed_args(deploy, out, migrate, opts)
    return run_json("seed", args, log_dir, out, timeout=timeout, env=deploy.env())


def seed_and_start(
    deploy: KefuDeploy, name: str, log_dir: Path, out: Path, **opts: Any
) -> tuple[dict[str, Any], Proc]:
    """Seed a fresh database and start the server under test: the server starts as soon as
    the schema is migrated, while the seed fills it (setup only: nothing is measured yet)."""
    args = _seed_args(deploy, out, True, opts)
    marker = Path(str(out) + ".migrated")
    marker.unlink(missing_ok=True)
    seeder = spawn("seed", args, log_dir, deploy.env())
    server: Proc | None = None
    try:
        deadline = time.monotonic() + 900
        while not marker.exists() and seeder.running and time.monotonic() < deadline:
            time.sleep(0.05)
        if marker.exists():
            server = deploy.spawn(name, log_dir)
        rc = seeder.popen.wait(max(1.0, deadline - time.monotonic()))
        if rc != 0 or not out.exists():
            raise RuntimeError(f"seed failed (exit {rc}):\n{seeder.tail()}")
        world: dict[str, Any] = orjson.loads(out.read_bytes())
        if server is None:
            server = deploy.spawn(name, log_dir)
        wait_healthy(server, server.port)
    except BaseException:
        seeder.stop()
        if server is not None:
            server.stop()
        raise
    return world, server


def loadgen(plan: dict[str, Any], log_dir: Path, name: str, timeout: float) -> dict[str, Any]:
    """Run the load generator in its own process with ``plan``; return its report."""
    plan_path, out = log_dir / f"{name}.plan.json", log_dir / f"{name}.out.json"
    plan_path.write_bytes(orjson.dumps(plan))
    out.unlink(missing_ok=True)
    args = [PY, "-m", "benchmarks.loadgen", "--plan", str(plan_path), "--out", str(out)]
    return run_json(name, args, log_dir, out, timeout=timeout)


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)
