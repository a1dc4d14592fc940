"""``kefu bot eval``: the figures are computed from the files, in-process and as a command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kefu.bot.evaluation import DataError, evaluate, read_examples

DATA = Path(__file__).parent / "data"
KEFU = str(Path(sys.executable).with_name("kefu"))
KEYS = {
    "n_in_scope",
    "n_oos",
    "top1_accuracy",
    "in_scope_accuracy",
    "answered_accuracy",
    "coverage",
    "oos_recall",
    "p50_ms",
    "p99_ms",
}


def test_figures_agree_with_a_count_by_hand() -> None:
    kb = read_examples(DATA / "faq_zh_kb.csv")
    test = read_examples(DATA / "faq_zh_test.csv")
    from kefu.bot.matching import train

    model = train(kb)
    matches = [(ex, model.match(ex.text)) for ex in test]
    in_scope = [(ex, m) for ex, m in matches if ex.category != "oos"]
    oos = [m for ex, m in matches if ex.category == "oos"]
    answered = [(ex, m) for ex, m in in_scope if m.answer]
    report = evaluate(kb, test)
    assert (report.n_in_scope, report.n_oos) == (len(in_scope), len(oos)) == (30, 4)
    assert report.top1_accuracy == sum(ex.category == m.category for ex, m in in_scope) / 30
    right = sum(ex.category == m.category for ex, m in answered)
    assert report.in_scope_accuracy == right / 30
    assert report.coverage == len(answered) / 30
    assert report.answered_accuracy == (right / len(answered) if answered else None)
    assert report.oos_recall == sum(not m.answer for m in oos) / 4
    assert 0 < report.p50_ms <= report.p99_ms


def test_a_category_missing_from_the_kb_counts_as_out_of_scope(tmp_path: Path) -> None:
    kb = read_examples(DATA / "faq_ja_kb.csv")
    test = read_examples(DATA / "faq_ja_test.csv")
    renamed = [ex.__class__(ex.text, "something_else") for ex in test if ex.category == "oos"]
    report = evaluate(kb, [*(ex for ex in test if ex.category != "oos"), *renamed])
    assert (report.n_in_scope, report.n_oos) == (12, 2)
    assert evaluate(kb, [t for t in test if t.category != "oos"]).oos_recall is None


def test_bad_files_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("question,label\nhi,x\n", encoding="utf-8")
    with pytest.raises(DataError):
        read_examples(bad)
    with pytest.raises(DataError):
        read_examples(tmp_path / "missing.csv")


def test_command_prints_one_json_object_and_progress_on_stderr() -> None:
    proc = subprocess.run(
        [
            KEFU,
            "bot",
            "eval",
            "--kb",
            str(DATA / "faq_zh_kb.csv"),
            "--test",
            str(DATA / "faq_zh_test.csv"),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert set(report) >= KEYS
    assert report["n_in_scope"] == 30 and report["n_oos"] == 4
    assert report["top1_accuracy"] >= 0.9
    assert "answering" in proc.stderr


def test_command_refuses_a_bad_file_with_exit_code_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("nope\n", encoding="utf-8")
    proc = subprocess.run(
        [KEFU, "bot", "eval", "--kb", str(bad), "--test", str(bad), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert "text,category" in proc.stderr
