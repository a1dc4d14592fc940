"""File names: the extension follows the bytes; hidden characters are refused."""

from __future__ import annotations

import pytest

from kefu.attachments.names import check_name, content_disposition
from kefu.domain.errors import InvalidInput


@pytest.mark.parametrize(
    ("raw", "ext", "stored"),
    [
        ("photo.png", "jpg", "photo.jpg"),
        ("invoice.pdf.exe", "pdf", "invoice_pdf.pdf"),
        (".htaccess", "txt", "file.txt"),
        ("", "png", "file.png"),
        (None, "png", "file.png"),
        ("报告 2026.xlsx", "xlsx", "报告 2026.xlsx"),
        ("Cafe\u0301.jpg", "jpg", "Café.jpg"),  # NFC
        ("  spaced  .png ", "png", "spaced.png"),
    ],
)
def test_names_take_the_detected_extension(raw: str | None, ext: str, stored: str) -> None:
    assert check_name(raw, ext) == stored


@pytest.mark.parametrize(
    "raw",
    [
        "cat\u200b.jpg",  # zero-width space
        "invoice\u202egpj.exe",  # right-to-left override
        "a\u2066b.jpg",  # isolate
        "bom\ufeff.txt",
        "nul\x00.jpg",
        "bell\x07.jpg",
        "line\nbreak.jpg",
        "para\u2029.jpg",
        "../../etc/passwd",
        "C:\\temp\\x.jpg",
        "x" * 201,
    ],
)
def test_hidden_characters_and_paths_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput) as err:
        check_name(raw, "jpg")
    assert err.value.code == "invalid_file_name"


def test_content_disposition_has_an_ascii_fallback() -> None:
    header = content_disposition('报告 "final".pdf', inline=False)
    assert header == (
        'attachment; filename="__ _final_.pdf"; '
        "filename*=UTF-8''%E6%8A%A5%E5%91%8A%20%22final%22.pdf"
    )
