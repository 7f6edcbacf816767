"""The embedded store: SQLite, kept between runs. Articles are keyed by id, canonical events by
``event_id``; writing the same thing twice leaves one row."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

from extractors import Deduplicator, DefectionEvent, entity_key
from streams.inputs import InputError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, url TEXT, title TEXT, published TEXT, source TEXT, processed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS reports (
    article_id TEXT NOT NULL, idx INTEGER NOT NULL, event_id TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (article_id, idx)
);
CREATE TABLE IF NOT EXISTS events (
    event_id TEXT PRIMARY KEY, entity_key TEXT NOT NULL, status TEXT NOT NULL, sector TEXT NOT NULL,
    seniority REAL NOT NULL, last_seen TEXT, body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_key ON events (entity_key);
CREATE TABLE IF NOT EXISTS deadletter (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ref TEXT NOT NULL, reason TEXT NOT NULL, payload TEXT, at TEXT NOT NULL
);
"""

ALERT_LOG_DDL = """CREATE TABLE IF NOT EXISTS alert_log (
    key TEXT PRIMARY KEY, status TEXT NOT NULL, at TEXT NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL
)"""
"""The sent-alert record of the embedded mode (``streams.alerts.SqliteLedger`` reads and writes it)."""


class Store:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(str(path))
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(_SCHEMA)
        self.db.execute(ALERT_LOG_DDL)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def seen_article(self, article_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM articles WHERE id = ?", (article_id,)).fetchone() is not None

    def save(self, article_id: str, url: str | None, title: str, published: dt.date | None, source: str | None,
             reports: list[DefectionEvent], canonical: list[DefectionEvent],
             absorbed: list[DefectionEvent] | None = None) -> None:
        """One article's results in one transaction: it is either fully recorded or not at all."""
        now = dt.datetime.now(dt.UTC).isoformat()
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO articles VALUES (?, ?, ?, ?, ?, ?)",
                (article_id, url, title, published.isoformat() if published else None, source, now),
            )
            self.db.execute("DELETE FROM reports WHERE article_id = ?", (article_id,))
            self.db.executemany(
                "INSERT INTO reports VALUES (?, ?, ?, ?)",
                [(article_id, i, r.event_id, r.model_dump_json(by_alias=True)) for i, r in enumerate(reports)],
            )
            self.db.executemany(
                "INSERT OR REPLACE INTO events VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(e.event_id, entity_key(e), e.status, e.sector, e.seniority,
                  e.last_seen.isoformat() if e.last_seen else None, e.model_dump_json(by_alias=True))
                 for e in canonical],
            )
            for gone in absorbed or []:
                self.db.execute("DELETE FROM events WHERE event_id = ?", (gone.event_id,))
                self.db.execute("UPDATE reports SET event_id = ? WHERE event_id = ?",
                                (gone.merged_into, gone.event_id))

    def reports_of(self, article_id: str) -> list[DefectionEvent]:
        rows = self.db.execute("SELECT body FROM reports WHERE article_id = ? ORDER BY idx", (article_id,)).fetchall()
        return [DefectionEvent.model_validate(json.loads(b)) for (b,) in rows]

    def dead_letter(self, err: InputError) -> None:
        with self.db:
            self.db.execute("INSERT INTO deadletter (ref, reason, payload, at) VALUES (?, ?, ?, ?)",
                            (err.ref, err.problem, err.payload[:100_000], dt.datetime.now(dt.UTC).isoformat()))

    def events(self, limit: int | None = None) -> list[DefectionEvent]:
        sql = "SELECT body FROM events ORDER BY last_seen DESC"
        rows = self.db.execute(sql + (f" LIMIT {int(limit)}" if limit else "")).fetchall()
        return [DefectionEvent.model_validate(json.loads(b)) for (b,) in rows]

    def counts(self) -> dict[str, int]:
        out = {}
        for table in ("articles", "reports", "events", "deadletter"):
            out[table] = int(self.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
        out["alerts"] = int(self.db.execute("SELECT COUNT(*) FROM alert_log").fetchone()[0])
        return out

    def load_dedup(self, dedup: Deduplicator) -> None:
        """Restore the de-duplication state so a restarted run merges into the events it already has."""
        for e in self.events():
            dedup.state.setdefault(entity_key(e), []).append(e)
