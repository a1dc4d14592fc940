"""The embeddings backend's encoder: the packaged model converted to ONNX (int8) and run by ONNX
Runtime without PyTorch; the disk cache that makes retraining embed only the examples that
changed."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kefu.bot.evaluation import read_examples
from kefu.bot.matching import Example
from kefu.bot.matching.embeddings import fit_embeddings
from kefu.bot.matching.encoders import Encoder, EncoderError, convert, onnx_dir
from kefu.bot.matching.vectorcache import VectorCache

DATA = Path(__file__).parent / "data"
TEXTS = ["where is my parcel", "how do I reset my password", "退款多久能到账", "パスワードを忘れた"]


@pytest.fixture(scope="module")
def minilm() -> Encoder:
    return Encoder("minilm", VectorCache(None))


def test_the_onnx_model_gives_the_packaged_models_vectors(minilm: Encoder) -> None:
    """int8 weights move a vector a little, not to another meaning: each text's vector is
    nearest to PyTorch's vector of the same text."""
    import torch
    from sentence_transformers import SentenceTransformer

    from kefu.bot import packaged

    torch.set_num_threads(1)
    reference = SentenceTransformer(
        str(packaged.path_of("minilm")), device="cpu", local_files_only=True
    ).encode(TEXTS, normalize_embeddings=True)
    ours = np.vstack([minilm.encode_one(t) for t in TEXTS])
    similarity = ours @ reference.T
    assert np.all(np.diag(similarity) > 0.95), np.diag(similarity)
    assert list(similarity.argmax(axis=1)) == list(range(len(TEXTS)))


def test_one_text_gets_the_same_vector_alone_and_among_others(minilm: Encoder) -> None:
    one = minilm.encode_one(TEXTS[0])
    many = minilm.encode_many([*TEXTS, TEXTS[0]])
    assert many.shape == (len(TEXTS) + 1, minilm.dimensions)
    assert np.allclose(np.linalg.norm(many, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(many[0], one) and np.array_equal(many[0], many[-1])


def test_the_converted_model_is_complete_and_loads_without_torch(minilm: Encoder) -> None:
    where = convert("minilm")
    assert where == onnx_dir("minilm") and where.name.endswith("-int8-v1")
    meta = json.loads((where / "meta.json").read_text())
    assert meta["quantised"] and meta["pooling"] == "mean" and len(meta["sha256"]) == 64
    assert {p.name for p in where.iterdir()} == {"model.onnx", "tokenizer.json", "meta.json"}
    code = (
        "import sys\n"
        "from kefu.bot.matching.encoders import Encoder\n"
        "from kefu.bot.matching.vectorcache import VectorCache\n"
        "e = Encoder('minilm', VectorCache(None))\n"
        "print(e.encode_one('where is my parcel').shape[0], 'torch' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env |= {"HF_HUB_OFFLINE": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.split() == ["384", "False"]


def test_a_directory_that_is_not_a_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EncoderError, match="neither a packaged model"):
        convert(str(tmp_path))


def test_retraining_embeds_only_the_examples_that_changed(tmp_path: Path) -> None:
    """A new encoder (as after a restart) on the same disk cache runs the model only on the
    questions it has not seen: the ones of the article that was edited."""
    cache = VectorCache(tmp_path / "cache.sqlite3")
    examples = read_examples(DATA / "faq_zh_kb.csv")
    first = Encoder("minilm", cache)
    fit_embeddings(examples, first)
    assert first.encoded == len({ex.text for ex in examples})

    again = Encoder("minilm", cache)
    fit_embeddings(examples, again)
    assert again.encoded == 0  # nothing changed: every vector comes from the disk

    article = examples[0].category
    edited = [
        Example(f"{ex.text}？", ex.category) if ex.category == article else ex for ex in examples
    ]
    added = [Example("发票能不能寄到公司地址", "invoice")]
    third = Encoder("minilm", cache)
    model = fit_embeddings(edited + added, third)
    assert third.encoded == sum(ex.category == article for ex in examples) + 1
    assert model.match("退款多久能到账").category == "refund"

    # the cached vectors are the model's own: the same as encoding afresh
    fresh = Encoder("minilm", VectorCache(None))
    texts = [ex.text for ex in examples[:5]]
    assert np.array_equal(third.encode_many(texts), fresh.encode_many(texts))


def test_the_cache_drops_its_oldest_rows_and_survives_a_broken_file(tmp_path: Path) -> None:
    cache = VectorCache(tmp_path / "cache.sqlite3", max_rows=3)
    vectors = {f"text {i}": np.full(4, i, np.float32) for i in range(5)}
    for text, vector in vectors.items():
        cache.put("m", {text: vector})
    got = cache.get("m", list(vectors))
    assert set(got) == {"text 2", "text 3", "text 4"}
    assert np.array_equal(got["text 4"], vectors["text 4"])
    assert cache.get("another model", list(vectors)) == {}
    with sqlite3.connect(tmp_path / "cache.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM vectors").fetchone() == (3,)

    broken = tmp_path / "broken.sqlite3"
    broken.write_bytes(b"not a database" * 100)
    bad = VectorCache(broken)
    assert bad.get("m", ["text 1"]) == {}  # a warning, then no cache
    bad.put("m", {"text 1": vectors["text 1"]})
    assert bad.get("m", ["text 1"]) == {}
