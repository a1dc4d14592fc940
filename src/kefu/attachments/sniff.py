"""What a file is, decided by its bytes against an allow-list; the name and the declared
content type are never consulted for the type. SVG, HTML, XML and everything unlisted are
refused (415)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import filetype

from kefu.domain.attachments import AttachmentKind
from kefu.domain.errors import UnsupportedType

HEAD = 8192  # what the magic-byte matchers read


@dataclass(frozen=True, slots=True)
class Detected:
    mime: str
    extension: str
    kind: AttachmentKind
    archive: bool = False  # a zip container: inspected before it is accepted


def _entry(mime: str, ext: str, kind: AttachmentKind, archive: bool = False) -> Detected:
    return Detected(mime, ext, kind, archive)


_IMAGE, _AUDIO, _VIDEO, _FILE = (
    AttachmentKind.image,
    AttachmentKind.audio,
    AttachmentKind.video,
    AttachmentKind.file,
)
_OOXML = "application/vnd.openxmlformats-officedocument."
_ODF = "application/vnd.oasis.opendocument."
# The detector's answer -> what kefu stores and serves.
ALLOWED: dict[str, Detected] = {
    "image/jpeg": _entry("image/jpeg", "jpg", _IMAGE),
    "image/png": _entry("image/png", "png", _IMAGE),
    "image/apng": _entry("image/png", "png", _IMAGE),
    "image/gif": _entry("image/gif", "gif", _IMAGE),
    "image/webp": _entry("image/webp", "webp", _IMAGE),
    "audio/mpeg": _entry("audio/mpeg", "mp3", _AUDIO),
    "audio/mp4": _entry("audio/mp4", "m4a", _AUDIO),
    "audio/aac": _entry("audio/aac", "aac", _AUDIO),
    "audio/ogg": _entry("audio/ogg", "ogg", _AUDIO),
    "audio/x-wav": _entry("audio/wav", "wav", _AUDIO),
    "audio/x-flac": _entry("audio/flac", "flac", _AUDIO),
    "audio/amr": _entry("audio/amr", "amr", _AUDIO),
    "video/mp4": _entry("video/mp4", "mp4", _VIDEO),
    "video/x-m4v": _entry("video/mp4", "m4v", _VIDEO),
    "video/webm": _entry("video/webm", "webm", _VIDEO),
    "video/quicktime": _entry("video/quicktime", "mov", _VIDEO),
    "video/3gpp": _entry("video/3gpp", "3gp", _VIDEO),
    "application/pdf": _entry("application/pdf", "pdf", _FILE),
    "application/zip": _entry("application/zip", "zip", _FILE, archive=True),
    **{
        _OOXML + sub: _entry(_OOXML + sub, ext, _FILE, archive=True)
        for sub, ext in (
            ("wordprocessingml.document", "docx"),
            ("spreadsheetml.sheet", "xlsx"),
            ("presentationml.presentation", "pptx"),
        )
    },
    **{
        _ODF + sub: _entry(_ODF + sub, ext, _FILE, archive=True)
        for sub, ext in (("text", "odt"), ("spreadsheet", "ods"), ("presentation", "odp"))
    },
}
TEXT = _entry("text/plain", "txt", _FILE)
CSV = _entry("text/csv", "csv", _FILE)

# Text that a browser could take for markup is not text/plain to us.
_MARKUP = re.compile(
    rb"<\s*[!?]?\s*(doctype|html|head|body|script|svg|iframe|object|embed|xml|meta|link|style"
    rb"|img|form|math|template|base)\b",
    re.IGNORECASE,
)
_BINARY = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def detect(path: Path, name_hint: str | None = None) -> Detected:
    """The allowed type of the file at ``path``, or :class:`UnsupportedType`."""
    with path.open("rb") as f:
        head = f.read(HEAD)
    kind = filetype.guess(head)
    if kind is not None:
        found = ALLOWED.get(kind.mime)
        if found is None:
            raise _refuse(kind.mime)
        return found
    return _text(path, name_hint)


def _text(path: Path, name_hint: str | None) -> Detected:
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise _refuse("an unknown binary type") from None
    if _BINARY.search(data):
        raise _refuse("an unknown binary type")
    if _MARKUP.search(data):
        raise _refuse("markup (HTML, SVG or XML)")
    if name_hint and name_hint.lower().endswith(".csv"):
        return CSV
    return TEXT


def _refuse(what: str) -> UnsupportedType:
    return UnsupportedType(
        f"this type of file is not accepted ({what}); send images, audio, video, PDF, "
        "office documents, zip archives or plain text"
    )
