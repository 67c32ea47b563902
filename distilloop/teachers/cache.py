"""The persistent teacher-call cache: sqlite, content-addressed, one commit per call.

Key: sha256 of (backend, model, system prompt, prompt, generation settings), so any change to what
the teacher is asked makes a new key and a re-run of the same question never pays twice. The cache
lives outside the project by default ($DISTILLOOP_CACHE_DIR or ~/.cache/distilloop), so `dvc exp run`
in a temporary copy shares it. It stores answers and token usage only: never headers or keys.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from pathlib import Path

from distilloop import UserError
from distilloop.teachers import Reply

FILE_NAME = "teacher.sqlite"

SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    key TEXT PRIMARY KEY,
    backend TEXT NOT NULL,
    model TEXT NOT NULL,
    text TEXT NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    truncated INTEGER NOT NULL,
    cost_usd REAL NOT NULL,
    created REAL NOT NULL
)
"""


def cache_key(backend: str, model: str, system: str, prompt: str, settings: dict) -> str:
    content = {"backend": backend, "model": model, "system": system, "prompt": prompt, "settings": settings}
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def default_path(cache_path: str | None) -> Path:
    if cache_path:
        return Path(cache_path).expanduser()
    root = os.environ.get("DISTILLOOP_CACHE_DIR") or Path.home() / ".cache" / "distilloop"
    return Path(root).expanduser() / FILE_NAME


class CallCache:
    """Safe under threads (one connection, one lock) and across processes (WAL, busy timeout)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a commit survives a killed process
            self.db.execute(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise UserError(f"teacher cache {self.path}: {exc}") from None
        self.lock = threading.Lock()

    def get(self, key: str) -> tuple[Reply, float] | None:
        """(the reply, what it cost when it was made) or None."""
        with self.lock:
            row = self.db.execute(
                "SELECT text, input_tokens, output_tokens, truncated, cost_usd FROM calls WHERE key = ?", (key,)
            ).fetchone()
        return (Reply(row[0], row[1], row[2], bool(row[3])), row[4]) if row else None

    def put(self, key: str, backend: str, model: str, reply: Reply, cost_usd: float) -> None:
        with self.lock:
            self.db.execute(
                "INSERT OR REPLACE INTO calls VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    backend,
                    model,
                    reply.text,
                    reply.input_tokens,
                    reply.output_tokens,
                    int(reply.truncated),
                    cost_usd,
                    time.time(),
                ),
            )  # autocommit: one transaction per call, so a crash loses at most the call in flight

    def __len__(self) -> int:
        with self.lock:
            return self.db.execute("SELECT COUNT(*) FROM calls").fetchone()[0]

    def close(self) -> None:
        with self.lock:
            self.db.close()
