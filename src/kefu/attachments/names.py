"""File names: refused when they hide something, otherwise kept with the extension of the
type the bytes really are; and the ``Content-Disposition`` header they are served with."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from kefu.domain.errors import InvalidInput

MAX_NAME = 200
_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9 ._()\-]")


def check_name(raw: str | None, extension: str) -> str:
    """The stored name: ``raw`` without its extension, then ``.`` + ``extension``.

    Invisible or direction-changing characters (U+200B, U+202E, U+FEFF …: Unicode category
    Cf), control characters, NUL, lone surrogates and path separators make the upload refused
    (422 ``invalid_file_name``) rather than quietly changed, so what an agent sees is what the
    customer sent. The extension always comes from the detected type, never from the name.
    """
    name = unicodedata.normalize("NFC", raw or "").strip()
    for ch in name:
        category = unicodedata.category(ch)
        if category in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") or ch in "/\\":
            raise InvalidInput(
                f"the file name contains a hidden or control character (U+{ord(ch):04X})",
                code="invalid_file_name",
            )
    if len(name) > MAX_NAME:
        raise InvalidInput(
            f"the file name is longer than {MAX_NAME} characters", code="invalid_file_name"
        )
    stem = name.rsplit(".", 1)[0] if "." in name else name
    # Dots left in the stem would make a double extension ("invoice.pdf.exe"): keep none.
    stem = stem.replace(".", "_").strip(" _") or "file"
    return f"{stem}.{extension}"


def content_disposition(name: str, *, inline: bool) -> str:
    """RFC 6266: an ASCII fallback and the UTF-8 name (RFC 8187)."""
    fallback = _UNSAFE_ASCII.sub("_", name) or "file"
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
