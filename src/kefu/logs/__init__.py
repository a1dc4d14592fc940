"""Logging: JSON lines in production, readable entries in development; both bounded and redacted.

A record is only queued on the thread that logs it (the event loop, mostly); a listener thread
renders it (:mod:`kefu.logs.render`: frames without values, secrets redacted) and writes it to
stderr. So neither a traceback nor a slow terminal or pipe ever stalls the loop. The queue is
bounded: under a flood, records beyond it are dropped and counted, never waited for.
"""

from __future__ import annotations

import atexit
import contextvars
import copy
import logging
import logging.handlers
import queue
import sys

import structlog

from kefu.config import Settings
from kefu.logs.render import JsonFormatter, TextFormatter

QUEUE_SIZE = 10_000
# Libraries whose INFO lines are request URLs (Telegram's carries the bot token).
QUIET = ("httpx", "httpcore", "hpack", "websockets")

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


class _Queue(logging.handlers.QueueHandler):
    """Queues records as they are; the listener's handler formats them."""

    def __init__(self, q: queue.Queue[logging.LogRecord | None]) -> None:
        super().__init__(q)
        self.dropped = 0

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        record = copy.copy(record)
        try:
            record.msg, record.args = record.getMessage(), None  # args may change later
        except Exception:
            record.args = None
        record.request_id = request_id.get()
        return record

    def enqueue(self, record: logging.LogRecord) -> None:
        try:
            if self.dropped:
                note = logging.makeLogRecord(
                    {"name": __name__, "levelno": logging.WARNING, "levelname": "WARNING"}
                )
                note.msg = f"{self.dropped} log records dropped: the log queue was full"
                self.queue.put_nowait(note)
                self.dropped = 0
            self.queue.put_nowait(record)
        except queue.Full:
            self.dropped += 1


class _Listener(logging.handlers.QueueListener):
    def __init__(self, q: queue.Queue[logging.LogRecord | None], handler: logging.Handler) -> None:
        super().__init__(q, handler)
        self.bounded = q

    def enqueue_sentinel(self) -> None:
        self.bounded.put(None, timeout=10)  # waits while the thread drains a full queue


_listener: _Listener | None = None


def stop_logging() -> None:
    """Write out what is queued and stop the listener thread (at exit, or to reconfigure)."""
    global _listener
    if _listener is not None:
        _listener.stop()
        _listener = None


def configure_logging(settings: Settings) -> None:
    global _listener
    stop_logging()
    stream = logging.StreamHandler(sys.stderr)
    stream.setFormatter(JsonFormatter() if settings.log_json else TextFormatter())
    q: queue.Queue[logging.LogRecord | None] = queue.Queue(QUEUE_SIZE)
    root = logging.getLogger()
    root.handlers[:] = [_Queue(q)]
    root.setLevel(settings.log_level.upper())
    for name in QUIET:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []  # through the root's safe path only
        logging.getLogger(name).propagate = True
    _listener = _Listener(q, stream)
    _listener.start()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.render_to_log_kwargs,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
    )


atexit.register(stop_logging)
