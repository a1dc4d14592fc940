"""Zip checks read the central directory only."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import pytest

from kefu.attachments.archives import check_zip
from kefu.domain.errors import InvalidInput
from tests.attachments import samples


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "a.zip"
    path.write_bytes(data)
    return path


def test_an_ordinary_archive_passes(tmp_path: Path) -> None:
    data = samples.zip_of([("docs/readme.txt", b"hello " * 100), ("img/a.png", samples.png())])
    check_zip(_write(tmp_path, data))


@pytest.mark.parametrize(
    "data",
    [
        samples.zip_bomb(),
        samples.zip_many(1_001),
        samples.zip_of([("../evil.sh", b"x")]),
        samples.zip_of([("/etc/passwd", b"x")]),
        samples.zip_of([("C:/boot.ini", b"x")]),
        samples.zip_of([("a.txt", b"x")], symlink="link"),
        b"PK\x03\x04 not really a zip",
    ],
)
def test_hostile_archives_are_refused(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(InvalidInput) as err:
        check_zip(_write(tmp_path, data))
    assert err.value.code == "archive_refused"


def test_overlapping_entries_are_refused(tmp_path: Path) -> None:
    """Two central-directory entries pointing at the same bytes (the overlap bomb)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("a.txt", b"a" * 100)
        archive.writestr("b.txt", b"b" * 100)
    data = bytearray(out.getvalue())
    second = data.rfind(b"PK\x01\x02")  # the second central-directory entry
    struct.pack_into("<I", data, second + 42, 0)  # its local header offset -> the first entry
    with pytest.raises(InvalidInput):
        check_zip(_write(tmp_path, bytes(data)))
