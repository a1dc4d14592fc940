"""The commands users run: `kefu demo` serves a seeded workspace; `kefu migrate`."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

KEFU = str(Path(sys.executable).with_name("kefu"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    return env | {"KEFU_DATA_DIR": str(tmp_path)} | extra


def test_demo_serves_a_seeded_workspace(tmp_path: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [KEFU, "demo", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(tmp_path)],
        env=_env(tmp_path, KEFU_DEMO_PASSWORD="demo-secret-pw"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"{base}/healthz", timeout=2)
                if r.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, "kefu demo exited early"
            assert time.monotonic() < deadline, "kefu demo did not become healthy"
            time.sleep(0.2)
        assert r.json()["status"] == "ok" and r.json()["database"] == "sqlite"
        login = httpx.post(
            f"{base}/api/v1/auth/login",
            json={"email": "admin@demo.kefu", "password": "demo-secret-pw"},
            timeout=30,
        )
        assert login.status_code == 200
        token = login.json()["token"]
        inboxes = httpx.get(
            f"{base}/api/v1/inboxes", headers={"authorization": f"Bearer {token}"}, timeout=30
        )
        assert [i["name"] for i in inboxes.json()] == ["Web site"]
        agents = httpx.get(
            f"{base}/api/v1/agents", headers={"authorization": f"Bearer {token}"}, timeout=30
        )
        assert len(agents.json()) == 3
        schema = httpx.get(f"{base}/openapi.json", timeout=30).json()
        assert "/api/v1/auth/login" in schema["paths"]
        assert (tmp_path / "kefu.db").exists()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    assert "demo-secret-pw" in out and "admin@demo.kefu" in out


def test_demo_password_is_random_without_the_variable(tmp_path: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [KEFU, "demo", "--port", str(port), "--data-dir", str(tmp_path)],
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        bad = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/auth/login",
            json={"email": "admin@demo.kefu", "password": "demo-secret-pw"},
            timeout=30,
        )
        assert bad.status_code == 401
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=20)
    password_line = next(line for line in out.splitlines() if "password" in line)
    assert len(password_line.split("│")[2].strip()) >= 12


def test_migrate_and_refuse_default_secret(tmp_path: Path) -> None:
    ok = subprocess.run(
        [KEFU, "migrate"], env=_env(tmp_path, KEFU_MODE="dev"), capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "kefu.db").exists()
    refused = subprocess.run(
        [KEFU, "serve"], env=_env(tmp_path), capture_output=True, text=True, timeout=60
    )
    assert refused.returncode == 2
    assert "KEFU_SECRET_KEY" in refused.stdout + refused.stderr


def test_workspace_create_makes_a_usable_workspace(tmp_path: Path) -> None:
    env = _env(tmp_path, KEFU_MODE="dev")
    assert subprocess.run([KEFU, "migrate"], env=env, capture_output=True).returncode == 0
    args = [
        KEFU,
        "workspace",
        "create",
        "--name",
        "Acme",
        "--slug",
        "acme",
        "--admin-email",
        "Owner@Acme.test",
        "--password",
        "owner password 1",
    ]
    made = subprocess.run(args, env=env, capture_output=True, text=True)
    assert made.returncode == 0, made.stdout + made.stderr
    assert "web inbox key" in made.stdout
    again = subprocess.run(args, env=env, capture_output=True, text=True)
    assert again.returncode == 1 and "slug_taken" in again.stdout
    bad = subprocess.run([*args[:6], "x y", *args[7:]], env=env, capture_output=True, text=True)
    assert bad.returncode == 2 and "slug" in bad.stdout


def test_the_cli_refuses_weak_passwords(tmp_path: Path) -> None:
    env = _env(tmp_path, KEFU_MODE="dev")
    assert subprocess.run([KEFU, "migrate"], env=env, capture_output=True).returncode == 0
    args = [KEFU, "workspace", "create", "--name", "Acme", "--slug", "acme"]
    args += ["--admin-email", "owner@acme.test", "--password"]
    for weak in ("password", "12345678", "acme-acme-acme"):
        made = subprocess.run([*args, weak], env=env, capture_output=True, text=True)
        assert made.returncode == 1 and "weak_password" in made.stdout, made.stdout + made.stderr
    # Nothing was half made: the slug is still free.
    made = subprocess.run([*args, "owner password 1"], env=env, capture_output=True, text=True)
    assert made.returncode == 0, made.stdout + made.stderr
    demo = subprocess.run(
        [KEFU, "demo", "--port", str(_free_port()), "--data-dir", str(tmp_path / "demo")],
        env=_env(tmp_path, KEFU_DEMO_PASSWORD="password1"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert demo.returncode == 2 and "weak_password" in demo.stdout, demo.stdout + demo.stderr


def test_agent_set_password_lets_a_locked_out_admin_back_in(tmp_path: Path) -> None:
    env = _env(tmp_path, KEFU_MODE="dev")
    assert subprocess.run([KEFU, "migrate"], env=env, capture_output=True).returncode == 0
    create = [KEFU, "workspace", "create", "--name", "Acme", "--slug", "acme"]
    create += ["--admin-email", "owner@acme.test", "--password", "owner password 1"]
    made = subprocess.run(create, env=env, capture_output=True, text=True)
    assert made.returncode == 0, made.stdout + made.stderr
    args = [KEFU, "agent", "set-password", "--workspace", "acme", "--email", "owner@acme.test"]

    def run(*more: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*args, *more], env=env, capture_output=True, text=True)

    weak = run("--password", "password")
    assert weak.returncode == 1 and "weak_password" in weak.stdout, weak.stdout
    elsewhere = [KEFU, "agent", "set-password", "--workspace", "nope"]
    elsewhere += ["--email", "owner@acme.test", "--password", "a fresh passphrase 7"]
    unknown = subprocess.run(elsewhere, env=env, capture_output=True, text=True)
    assert unknown.returncode == 1 and "not_found" in unknown.stdout, unknown.stdout
    done = run("--password", "a fresh passphrase 7")
    assert done.returncode == 0, done.stdout + done.stderr

    async def check() -> tuple[bool, bool]:
        from sqlalchemy import select

        from kefu.config import Settings
        from kefu.db.tables import Agent
        from kefu.runtime import Kefu
        from kefu.security.passwords import verify_password_async

        kefu = Kefu(Settings(data_dir=tmp_path, mode="dev"))
        try:
            async with kefu.db.read() as s:
                agent = await s.scalar(select(Agent).where(Agent.email == "owner@acme.test"))
            assert agent is not None
            return (
                await verify_password_async(agent.password_hash, "a fresh passphrase 7"),
                await verify_password_async(agent.password_hash, "owner password 1"),
            )
        finally:
            await kefu.close()

    assert asyncio.run(check()) == (True, False)
