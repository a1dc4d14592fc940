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


def _start_demo(tmp_path: Path, port: int, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [KEFU, "demo", "--port", str(port), "--data-dir", str(tmp_path), *args],
        env=_env(tmp_path, KEFU_DEMO_PASSWORD="demo-secret-pw"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _healthy(proc: subprocess.Popen[str], base: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert proc.poll() is None, "kefu demo exited early"
        assert time.monotonic() < deadline, "kefu demo did not become healthy"
        time.sleep(0.2)


def _stop(proc: subprocess.Popen[str]) -> tuple[str, str]:
    proc.send_signal(signal.SIGINT)
    try:
        return proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()


def _line(out: str, label: str) -> str:
    return next(line for line in out.splitlines() if line.startswith(label)).split()[-1]


def test_first_run_links_routes_and_starts_again_without_wiping(tmp_path: Path) -> None:
    """What a newcomer meets: the links printed, `/` leading to the app, no warning on
    stderr, agents online (a widget conversation is assigned at once), the embed origins
    allowed, and a second start with --keep that finds everything where it was."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _start_demo(tmp_path, port)
    try:
        _healthy(proc, base)
        home = httpx.get(f"{base}/", timeout=30)
        assert home.status_code == 302 and home.headers["location"] == "/app/"
        agent = httpx.post(
            f"{base}/api/v1/auth/login",
            json={"email": "admin@demo.kefu", "password": "demo-secret-pw"},
            timeout=30,
        ).json()["token"]
        bearer = {"authorization": f"Bearer {agent}"}
        agents = httpx.get(f"{base}/api/v1/agents", headers=bearer, timeout=30).json()
        assert {a["email"]: a["status"] for a in agents if a["role"] == "agent"} == {
            "li@demo.kefu": "online",
            "sato@demo.kefu": "online",
        }
        inbox = httpx.get(f"{base}/api/v1/inboxes", headers=bearer, timeout=30).json()[0]
        session = httpx.post(
            f"{base}/api/client/v1/sessions",
            json={"inbox_key": inbox["key"]},
            headers={"origin": "http://localhost:8080"},
            timeout=30,
        )
        assert session.status_code == 201, session.text
        visitor = {"authorization": f"Bearer {session.json()['token']}"}
        started = httpx.post(
            f"{base}/api/client/v1/conversations",
            json={"message": {"content": "hello", "client_msg_id": "first-run-1"}},
            headers=visitor,
            timeout=30,
        )
        assert started.status_code == 201, started.text
        conv_id = started.json()["conversation"]["id"]
        conv = httpx.get(f"{base}/api/v1/conversations/{conv_id}", headers=bearer, timeout=30)
        assert conv.json()["assignee_id"] in {a["id"] for a in agents if a["role"] == "agent"}
        # the chat page may be framed by those origins (web/widget: tests/web)
        assert "http://localhost:8080" in inbox["allowed_origins"]
    finally:
        out, err = _stop(proc)
    assert _line(out, "agent app:") == f"{base}/app/"
    assert _line(out, "chat widget:") == f"{base}/widget/chat.html?key={inbox['key']}"
    assert _line(out, "widget loader:") == f"{base}/widget/loader.js"
    assert "kefu demo --keep" in out
    assert "Warning" not in err and "warning" not in err.lower(), err
    assert "demo-secret-pw" in out

    again = _start_demo(tmp_path, port, "--keep")
    try:
        _healthy(again, base)
        # the same workspace, its conversation and (through the kept secret key) its session
        conv = httpx.get(f"{base}/api/v1/conversations/{conv_id}", headers=bearer, timeout=30)
        assert conv.status_code == 200, conv.text
        agents = httpx.get(f"{base}/api/v1/agents", headers=bearer, timeout=30).json()
        assert all(a["status"] == "online" for a in agents if a["role"] == "agent")
    finally:
        out, err = _stop(again)
    assert "exists already" in out and "demo-secret-pw" not in out
    assert _line(out, "chat widget:") == f"{base}/widget/chat.html?key={inbox['key']}"
    assert "warning" not in err.lower(), err
