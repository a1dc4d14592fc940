"""The embeddings backend's disk cache: a text's vector, by model and text, so retraining a
knowledge base (in this process or the next one) runs the model only on the example questions
that changed.

One SQLite file (``KEFU_BOT_MODELS_DIR/embeddings.sqlite3``) shared by the processes of a
host; a key is the model's id (the hash of its ONNX file) and the SHA-256 of the text, a value
the float32 vector. The oldest rows beyond :data:`MAX_ROWS` are dropped. A cache that cannot be
read or written (a read-only disk) is skipped with a warning: it only ever saves time.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

#: Rows kept (all models together): 100,000 768-dimension vectors are about 310 MB.
MAX_ROWS = 100_000
#: Keys looked up per query (below SQLite's limit on bound parameters).
CHUNK = 500


def text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


class VectorCache:
    def __init__(self, path: Path | None, max_rows: int = MAX_ROWS) -> None:
        """``path`` None: a cache that holds nothing (every text is encoded)."""
        self.path = path
        self.max_rows = max_rows
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._failed = path is None

    @classmethod
    def default(cls) -> VectorCache:
        from kefu.bot import packaged

        return cls(packaged.models_dir() / "embeddings.sqlite3")

    def _connect(self) -> sqlite3.Connection | None:
        if self._db is None and not self._failed and self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute(
                    "CREATE TABLE IF NOT EXISTS vectors (id INTEGER PRIMARY KEY, model TEXT NOT"
                    " NULL, key BLOB NOT NULL, vector BLOB NOT NULL, UNIQUE (model, key))"
                )
                db.commit()
                self._db = db
            except sqlite3.Error as exc:
                self._fail(exc)
        return self._db

    def _fail(self, exc: Exception) -> None:
        log.warning("embeddings cache %s not used: %s", self.path, exc)
        self._failed = True
        self._db = None

    def get(self, model: str, texts: Iterable[str]) -> dict[str, npt.NDArray[np.float32]]:
        """The cached vectors of those texts that have one."""
        by_key = {text_key(t): t for t in texts}
        out: dict[str, npt.NDArray[np.float32]] = {}
        with self._lock:
            db = self._connect()
            if db is None:
                return out
            keys = list(by_key)
            try:
                for i in range(0, len(keys), CHUNK):
                    part = keys[i : i + CHUNK]
                    marks = ",".join("?" * len(part))  # placeholders only
                    query = f"SELECT key, vector FROM vectors WHERE model = ? AND key IN ({marks})"  # noqa: S608
                    rows = db.execute(query, [model, *part])
                    for key, blob in rows:
                        out[by_key[bytes(key)]] = np.frombuffer(blob, np.float32)
            except sqlite3.Error as exc:
                self._fail(exc)
        return out

    def put(self, model: str, vectors: Mapping[str, npt.NDArray[np.float32]]) -> None:
        if not vectors:
            return
        with self._lock:
            db = self._connect()
            if db is None:
                return
            try:
                with db:
                    db.executemany(
                        "INSERT OR IGNORE INTO vectors (model, key, vector) VALUES (?, ?, ?)",
                        [
                            (model, text_key(t), np.asarray(v, np.float32).tobytes())
                            for t, v in vectors.items()
                        ],
                    )
                    (count,) = db.execute("SELECT count(*) FROM vectors").fetchone()
                    if count > self.max_rows:
                        db.execute(
                            "DELETE FROM vectors WHERE id IN"
                            " (SELECT id FROM vectors ORDER BY id LIMIT ?)",
                            (count - self.max_rows,),
                        )
            except sqlite3.Error as exc:
                self._fail(exc)
