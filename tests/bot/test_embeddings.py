"""The embeddings backend with its packaged models (all-mpnet-base-v2 by default,
all-MiniLM-L6-v2 on request): they load from disk with the hub switched off, match our Chinese
and Japanese FAQ fixtures, and ``kefu bot eval --backend embeddings`` reports on them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kefu.bot.evaluation import read_examples
from kefu.bot.matching import embeddings, train

DATA = Path(__file__).parent / "data"
KEFU = str(Path(sys.executable).with_name("kefu"))


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("KEFU_", "HF_"))}


def _offline_env() -> dict[str, str]:
    return _clean_env() | {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def _model(lang: str, name: str | None = None) -> embeddings.EmbeddingsModel:
    model = train(read_examples(DATA / f"faq_{lang}_kb.csv"), "embeddings", name)
    assert isinstance(model, embeddings.EmbeddingsModel)
    return model


@pytest.mark.parametrize("name", [None, "minilm"])
@pytest.mark.parametrize("lang", ["zh", "ja"])
def test_faq_top1_at_least_90_percent(lang: str, name: str | None) -> None:
    model = _model(lang, name)
    test = [ex for ex in read_examples(DATA / f"faq_{lang}_test.csv") if ex.category != "oos"]
    right = sum(model.match(ex.text).category == ex.category for ex in test)
    assert right / len(test) >= 0.9


def test_one_question_scores_as_in_a_batch_and_confidence_is_a_probability() -> None:
    model = _model("zh")
    texts = ["退款多久能到账", "ＡＢＣ全角 refund?", "完全没见过的字"]
    batch = model.scores(texts)
    for text, row in zip(texts, batch, strict=True):
        assert np.allclose(model.score_one(text), row, atol=1e-4)
    sure = model.match("忘记密码了怎么办")
    assert sure.category == "password" and sure.answer
    assert model.encoder.name == "mpnet" and model.encoder.dimensions == 768
    assert 0.0 < sure.confidence < 1.0 and sure.threshold == embeddings.PROFILES["mpnet"].threshold
    assert model.match("火星上有没有水").confidence < sure.confidence


def test_a_batch_decides_as_one_question_at_a_time() -> None:
    model = _model("zh")
    texts = [ex.text for ex in read_examples(DATA / "faq_zh_test.csv")] + ["where is my parcel"]
    many = model.match_many(texts)
    assert len(many) == len(texts) and model.match_many([]) == []
    for text, batched in zip(texts, many, strict=True):
        one = model.match(text)
        assert (one.category, one.answer) == (batched.category, batched.answer)
        assert abs(one.confidence - batched.confidence) < 1e-3


@pytest.mark.parametrize("name", ["mpnet", "minilm"])
def test_match_uses_the_calibration_features_the_threshold_was_tuned_on(name: str) -> None:
    """``match`` (one question) and ``features`` (the batch path of scripts/tune_bot.py) give
    the same best score, margin and similarity to the best article's centroid, calibrated with
    the model's own profile."""
    model = _model("zh", name)
    assert np.allclose(np.linalg.norm(model.centroids, axis=1), 1.0, atol=1e-5)
    texts = ["退款多久能到账", "火星上有没有水", "where is my parcel"]
    a, b, c, d = embeddings.PROFILES[name].calibration
    assert model.threshold == embeddings.PROFILES[name].threshold
    for text, (top, margin, near) in zip(texts, model.features(texts), strict=True):
        expected = 1.0 / (1.0 + np.exp(-(a * top + b * margin + c * near + d)))
        assert abs(model.match(text).confidence - expected) < 1e-3


@pytest.mark.parametrize("name", ["mpnet", "minilm"])
def test_embeddings_are_unit_vectors_and_cached_by_text(name: str) -> None:
    enc = embeddings.encoder(name)
    one = enc.encode_one("where is my parcel")
    many = enc.encode_many(["where is my parcel", "reset my password", "where is my parcel"])
    assert many.shape == (3, enc.dimensions) and np.allclose(np.linalg.norm(many, axis=1), 1.0)
    assert np.allclose(many[0], one, atol=1e-5) and np.array_equal(many[0], many[2])
    assert not np.allclose(many[0], many[1], atol=0.1)


def test_command_runs_offline_with_the_packaged_model() -> None:
    proc = subprocess.run(
        [
            KEFU,
            "bot",
            "eval",
            "--kb",
            str(DATA / "faq_zh_kb.csv"),
            "--test",
            str(DATA / "faq_zh_test.csv"),
            "--backend",
            "embeddings",
            "--json",
        ],
        env=_offline_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["backend"] == "embeddings"
    assert report["threshold"] == embeddings.PROFILES["mpnet"].threshold
    assert report["n_in_scope"] == 30 and report["n_oos"] == 4
    assert report["top1_accuracy"] >= 0.9


def test_a_model_that_is_not_on_disk_is_refused_not_downloaded(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            KEFU,
            "bot",
            "eval",
            "--kb",
            str(DATA / "faq_zh_kb.csv"),
            "--test",
            str(DATA / "faq_zh_test.csv"),
            "--backend",
            "embeddings",
            "--model",
            "kefu-test/no-such-model",
            "--json",
        ],
        env=_clean_env() | {"HF_HOME": str(tmp_path)},  # the hub is not switched off here
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert "cannot" in proc.stderr
    assert not any(tmp_path.rglob("*.safetensors"))
