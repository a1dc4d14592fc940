"""Unexpected errors in a real ``kefu serve``: a flood of them leaves the server answering, and
each is logged once, bounded, with its request id and no values (tokens included)."""

from __future__ import annotations

import asyncio
import itertools
import re
import secrets
import sys
import time

import httpx
import orjson
import pytest

from tests.multinode.nodes import Cluster

pytestmark = pytest.mark.storage

FLOOD = 50
MAX_ENTRY_BYTES = 20_000
_ENTRY_START = re.compile(r"^\d{4}-\d\d-\d\dT", re.M)


async def _flood(cluster: Cluster, log_json: bool) -> tuple[str, list[httpx.Response], float]:
    node = cluster.spawn(
        redis=False,
        command=[sys.executable, "-m", "tests.logs.faulty_server"],
        env={"KEFU_LOG_JSON": "true" if log_json else "false", "KEFU_LOG_LEVEL": "info"},
    )
    await cluster.wait_healthy(node)
    token = "kfs_" + secrets.token_urlsafe(32)
    worst = 0.0
    done = asyncio.Event()

    async def probe() -> None:
        nonlocal worst
        async with httpx.AsyncClient(base_url=node.url, timeout=30) as h:
            while not done.is_set():
                started = time.monotonic()
                r = await h.get("/healthz")
                assert r.status_code == 200
                worst = max(worst, time.monotonic() - started)
                await asyncio.sleep(0.02)

    prober = asyncio.create_task(probe())
    auth = {"authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=node.url, headers=auth, timeout=120) as c:
        answers = await asyncio.gather(*(c.get("/test/fail") for _ in range(FLOOD)))
        # and a while after: rendering must not be piling up behind the answers
        await asyncio.sleep(1.0)
    done.set()
    await prober
    node.stop()  # SIGTERM: the queued log records are written out before the process ends
    text = node.log_path.read_text()
    assert token not in text and token[4:20] not in text
    return text, answers, worst


def _check_answers(answers: list[httpx.Response]) -> set[str]:
    ids = set()
    for r in answers:
        assert r.status_code == 500
        error = r.json()["error"]
        assert error["code"] == "internal_error"
        rid = r.headers["x-request-id"]
        assert error["details"]["request_id"] == rid and rid in error["message"]
        ids.add(rid)
    assert len(ids) == FLOOD
    return ids


async def test_a_flood_of_errors_with_readable_logs(cluster: Cluster) -> None:
    text, answers, worst = await _flood(cluster, log_json=False)
    ids = _check_answers(answers)
    assert worst < 1.0, f"/healthz took {worst:.2f}s during the flood"
    starts = [m.start() for m in _ENTRY_START.finditer(text)] + [len(text)]
    entries = [text[a:b] for a, b in itertools.pairwise(starts)]
    errors = [e for e in entries if "unhandled error" in e]
    assert len(errors) == FLOOD  # once each: no second traceback from the server
    assert "Exception in ASGI application" not in text
    for entry in errors:
        assert len(entry.encode()) < MAX_ENTRY_BYTES
        assert re.search(r"request_id=([0-9a-f]{16})", entry).group(1) in ids  # type: ignore[union-attr]
        assert "Traceback (most recent call last" in entry and "RuntimeError: a bug" in entry
        assert 'faulty_server.py", line' in entry  # the frame, but none of its values:
        assert "authorization =" not in entry.lower() and "Route(path=" not in entry


async def test_a_flood_of_errors_with_json_logs(cluster: Cluster) -> None:
    text, answers, worst = await _flood(cluster, log_json=True)
    ids = _check_answers(answers)
    assert worst < 1.0, f"/healthz took {worst:.2f}s during the flood"
    assert "<traceback object" not in text and "Exception in ASGI application" not in text
    lines = [line for line in text.splitlines() if line.strip()]
    errors = []
    for line in lines:
        assert len(line.encode()) < MAX_ENTRY_BYTES
        entry = orjson.loads(line)  # every line is one JSON object
        if entry["event"].startswith("unhandled error"):
            errors.append(entry)
    assert len(errors) == FLOOD
    assert {e["request_id"] for e in errors} == ids
    for entry in errors:
        (exc,) = entry["exception"]
        assert exc["type"] == "builtins.RuntimeError" and exc["message"].startswith("a bug")
        last = exc["frames"][-1]
        assert last["function"] == "fail" and last["file"].endswith("faulty_server.py")
        assert set(last) == {"file", "line", "function"}  # frames, not values
        assert "Route(path=" not in orjson.dumps(entry).decode()
