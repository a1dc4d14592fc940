"""Turning a log record into one bounded, redacted line (JSON) or entry (readable text).

Exceptions are rendered as frames, never values: no local variables, at most
:data:`MAX_FRAMES` innermost frames of at most :data:`MAX_CHAIN` chained exceptions, and a
message cut to :data:`MAX_MESSAGE` characters. Whatever the record holds, the rendered entry
is at most :data:`MAX_ENTRY` characters, and :func:`~kefu.logs.redact.redact` runs over all of it.
"""

from __future__ import annotations

import linecache
import logging
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import orjson

from kefu.logs.redact import redact, redact_mapping

MAX_FRAMES = 15
MAX_CHAIN = 3
MAX_MESSAGE = 500
MAX_VALUE = 2000
MAX_ENTRY = 16_000

# Attributes every LogRecord has; anything else was passed in ``extra=``.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id"}
_STANDARD.add("color_message")  # uvicorn's copy of the message with terminal colours
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"… [{len(text) - limit} more]"


def _message(exc: BaseException) -> str:
    try:
        text = str(exc)
    except Exception:  # a broken __str__ must not lose the entry
        text = "<unprintable>"
    return _cut(text, MAX_MESSAGE)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and the exceptions it was raised from or during, innermost cause last."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < MAX_CHAIN:
        seen.add(id(current))
        yield current
        nxt = current.__cause__
        if nxt is None and not current.__suppress_context__:
            nxt = current.__context__
        current = nxt


def frames(exc: BaseException) -> tuple[int, list[dict[str, Any]]]:
    """The total number of frames of ``exc``'s traceback and its last :data:`MAX_FRAMES`."""
    walked = list(traceback.walk_tb(exc.__traceback__))
    out = []
    for frame, line in walked[-MAX_FRAMES:]:
        code = frame.f_code
        out.append({"file": code.co_filename, "line": line, "function": code.co_name})
    return len(walked), out


def exception_dicts(exc: BaseException) -> list[dict[str, Any]]:
    """JSON form: the chain, outermost first, each with type, message and frames."""
    result = []
    for item in _chain(exc):
        total, last = frames(item)
        result.append(
            {
                "type": f"{type(item).__module__}.{type(item).__qualname__}",
                "message": _message(item),
                "frames": last,
                "frames_total": total,
            }
        )
    return result


def exception_text(exc: BaseException) -> str:
    """Readable form, like Python's own traceback but bounded and without values."""
    parts: list[str] = []
    for i, item in enumerate(exception_dicts(exc)):
        if i:
            parts.append("\nwhich was raised while handling, or from:\n")
        shown, total = len(item["frames"]), item["frames_total"]
        head = "Traceback (most recent call last"
        head += f", last {shown} of {total} frames):" if shown < total else "):"
        parts.append(head)
        for f in item["frames"]:
            parts.append(f'  File "{f["file"]}", line {f["line"]}, in {f["function"]}')
            code = linecache.getline(f["file"], f["line"]).strip()
            if code:
                parts.append("    " + _cut(code, 160))
        parts.append(f"{item['type']}: {item['message']}")
    return "\n".join(parts)


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    extra = {k: v for k, v in record.__dict__.items() if k not in _STANDARD and k[0] != "_"}
    return {
        k: v if isinstance(v, int | float | bool) else _cut(str(v), MAX_VALUE)
        for k, v in redact_mapping(extra).items()
    }


def entry(record: logging.LogRecord) -> dict[str, Any]:
    """The fields of one log entry, every value bounded."""
    try:
        message = record.getMessage()
    except Exception:  # bad %-arguments: keep the template
        message = str(record.msg)
    fields: dict[str, Any] = {
        "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(),
        "level": record.levelname.lower(),
        "logger": record.name,
        "event": _cut(message, MAX_VALUE),
    }
    request_id = getattr(record, "request_id", None)
    if request_id:
        fields["request_id"] = request_id
    fields |= _extras(record)
    if record.exc_info and record.exc_info[1] is not None:
        fields["exception"] = record.exc_info[1]
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line; an exception as ``[{type, message, frames}]``."""

    def format(self, record: logging.LogRecord) -> str:
        fields = entry(record)
        exc = fields.pop("exception", None)
        if isinstance(exc, BaseException):
            fields["exception"] = exception_dicts(exc)
        line = redact(orjson.dumps(fields, default=str).decode())
        if len(line) > MAX_ENTRY:  # many long extras: keep what identifies the entry
            keep = ("timestamp", "level", "logger", "event", "request_id")
            short = {k: fields[k] for k in keep if k in fields} | {"truncated": True}
            line = redact(orjson.dumps(short).decode())
        return line


class TextFormatter(logging.Formatter):
    """``time [level] logger: message key=value`` and, for an exception, its frames below."""

    def format(self, record: logging.LogRecord) -> str:
        fields = entry(record)
        exc = fields.pop("exception", None)
        head = f"{fields.pop('timestamp')} [{fields.pop('level'):<7}] {fields.pop('logger')}: "
        head += fields.pop("event")
        rest = " ".join(f"{k}={v}" for k, v in fields.items())
        text = f"{head}  {rest}" if rest else head
        if isinstance(exc, BaseException):
            text += "\n" + exception_text(exc)
        return redact(_cut(text, MAX_ENTRY))
