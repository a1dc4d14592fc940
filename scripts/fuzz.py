"""Fuzz the HTTP API against its own contract, /openapi.json, with schemathesis.

Usage: python scripts/fuzz.py [--seconds 600] [--report-dir DIR] [-- extra schemathesis args]
       (``make fuzz``; FUZZ_SECONDS sets the time budget)

Starts ``kefu demo`` on a fresh SQLite database in a temporary directory and a free loopback
port (the demo workspace: an admin, two agents, a team, a web inbox), signs in as the admin and
runs ``schemathesis run --checks all`` with the admin's bearer token, one worker, for the given
number of seconds. Excluded operations, because they end the admin's session and so make the
rest of the run meaningless: ``POST /api/v1/auth/logout`` (revokes the token itself).
Exits with schemathesis's exit status (0: no finding); the server's log is printed on failure.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ADMIN = "admin@demo.kefu"
# Operations whose success ends the session the fuzzer runs with.
EXCLUDED_PATHS = ("/api/v1/auth/logout",)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_healthy(base: str, proc: subprocess.Popen[bytes], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"kefu exited early (status {proc.returncode})")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as r:  # noqa: S310
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise RuntimeError("kefu did not become healthy")


def sign_in(base: str, password: str) -> str:
    body = json.dumps({"email": ADMIN, "password": password}).encode()
    req = urllib.request.Request(  # noqa: S310 - loopback only
        f"{base}/api/v1/auth/login",
        data=body,
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=30) as r:  # noqa: S310
        token: str = json.loads(r.read())["token"]
        return token


def schemathesis_args(base: str, token: str, seconds: int, report_dir: Path) -> list[str]:
    exe = Path(sys.executable).parent / "schemathesis"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "schemathesis.cli"]
    cmd += [
        "run",
        f"{base}/openapi.json",
        "--checks",
        "all",
        "--workers",
        "1",
        "--max-time",
        str(seconds),
        "--header",
        f"Authorization: Bearer {token}",
        "--report",
        "junit,ndjson",
        "--report-dir",
        str(report_dir),
        "--generation-database",
        "none",
        "--no-color",
    ]
    for path in EXCLUDED_PATHS:
        cmd += ["--exclude-path", path]
    return cmd


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("FUZZ_SECONDS", 600)))
    parser.add_argument("--report-dir", type=Path, default=REPO / "schemathesis-report")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    parser.add_argument("extra", nargs="*", help="more schemathesis arguments (after --)")
    args = parser.parse_args(argv)

    data_dir = Path(tempfile.mkdtemp(prefix="kefu-fuzz-"))
    port, password = free_port(), secrets.token_urlsafe(16)
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ) | {
        "KEFU_MODE": "dev",
        "KEFU_DATA_DIR": str(data_dir),
        "KEFU_DEMO_PASSWORD": password,
        "KEFU_HOST": "127.0.0.1",
        "KEFU_PORT": str(port),
        "KEFU_LOG_LEVEL": "warning",
    }
    env.pop("KEFU_DATABASE_URL", None)
    env.pop("KEFU_REDIS_URL", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "src"), env.get("PYTHONPATH")]))
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "kefu.cli", "demo"],
            cwd=data_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    rc = 1
    try:
        wait_healthy(base, server)
        token = sign_in(base, password)
        cmd = schemathesis_args(base, token, args.seconds, args.report_dir) + args.extra
        print(f"kefu at {base} (data: {data_dir}); fuzzing for {args.seconds} s", flush=True)
        rc = subprocess.call(cmd, cwd=REPO)  # noqa: S603 - our own command line
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(15)
        if rc != 0:
            print("--- server log (tail) ---", file=sys.stderr)
            lines = log_path.read_text(errors="replace").splitlines()[-80:]
            print("\n".join(lines), file=sys.stderr)
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
