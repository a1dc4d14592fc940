"""`kefu kb import` and `kefu kb export`: a CSV goes in, the same articles come out, and the
exported file is a knowledge base `kefu bot eval` reads."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

KEFU = str(Path(sys.executable).with_name("kefu"))
DATA = Path(__file__).parent / "data"


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    return env | {"KEFU_DATA_DIR": str(tmp_path), "KEFU_MODE": "dev"}


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KEFU, *args], env=_env(tmp_path), capture_output=True, text=True, timeout=300
    )


def test_import_export_round_trip(tmp_path: Path) -> None:
    made = _run(
        tmp_path,
        "workspace",
        "create",
        "--name",
        "Acme",
        "--slug",
        "acme",
        "--admin-email",
        "owner@acme.test",
        "--password",
        "owner password 1",
    )
    assert made.returncode == 0, made.stdout + made.stderr
    source = tmp_path / "kb.csv"
    rows = list(csv.DictReader(io.StringIO((DATA / "faq_zh_kb.csv").read_text(encoding="utf-8"))))
    with source.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text", "category", "title", "answer", "language", "tags"])
        for r in rows:
            answer = f"<p>{r['category']}</p><script>x()</script>"
            w.writerow([r["text"], r["category"], r["category"].title(), answer, "zh", "faq|zh"])
    first = _run(tmp_path, "kb", "import", str(source), "--workspace", "acme")
    assert first.returncode == 0, first.stderr
    assert "10 articles created, 0 updated" in first.stdout
    assert "importing articles" in first.stderr  # the progress bar
    again = _run(tmp_path, "kb", "import", str(source), "--workspace", "acme")
    assert "0 articles created, 10 updated" in again.stdout
    out = tmp_path / "out.csv"
    exported = _run(tmp_path, "kb", "export", "--workspace", "acme", str(out))
    assert exported.returncode == 0, exported.stderr
    back = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert sorted((r["text"], r["category"]) for r in back) == sorted(
        (r["text"], r["category"]) for r in rows
    )
    assert all("<script>" not in r["answer"] and r["tags"] == "faq|zh" for r in back)
    report = _run(
        tmp_path,
        "bot",
        "eval",
        "--kb",
        str(out),
        "--test",
        str(DATA / "faq_zh_test.csv"),
        "--json",
    )
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)["top1_accuracy"] >= 0.9


def test_import_refuses_bad_files_and_unknown_workspaces(tmp_path: Path) -> None:
    assert _run(tmp_path, "migrate").returncode == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("question\nhello\n", encoding="utf-8")
    refused = _run(tmp_path, "kb", "import", str(bad), "--workspace", "acme")
    assert refused.returncode == 2 and "text,category" in refused.stderr
    good = DATA / "faq_en_kb.csv"
    missing = _run(tmp_path, "kb", "import", str(good), "--workspace", "nobody")
    assert missing.returncode == 1 and "no workspace" in missing.stderr
