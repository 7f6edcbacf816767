"""The ingestion stage both modes share: each incoming article is new, a duplicate, or a copy.

* **duplicate** — same canonical URL as an article already admitted (the same page again, perhaps with
  tracking parameters): dropped, nothing about it is new.
* **copy** — another URL with the same text (same hash) or nearly the same text (a wire story with a
  new headline, dateline or a sentence changed; MinHash/LSH within ``window_days``): not extracted
  again, but linked to the first copy (``Article.copy_of``) so its outlet still counts as a source
  of the events found in the first.
* **new** — everything else: extracted.

The state (canonical URLs, text hashes, signatures and their LSH bands) lives in SQLite in the data
directory, so a restarted ingester keeps recognising what it saw.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from extractors import Article
from streams import neardup
from streams.urls import canonical_url

Verdict = Literal["new", "duplicate", "copy"]
MIN_WORDS_FOR_NEAR = 40
"""Shorter texts (headline-only items) are matched exactly, never by similarity."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS seen_urls (url TEXT PRIMARY KEY, article_id TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS seen_texts (hash TEXT PRIMARY KEY, article_id TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS signatures (article_id TEXT PRIMARY KEY, sig BLOB NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS bands (band TEXT NOT NULL, article_id TEXT NOT NULL, at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS bands_band ON bands (band);
CREATE INDEX IF NOT EXISTS bands_at ON bands (at);
"""


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    article: Article
    """The article as it goes on: keyed by its canonical URL; ``copy_of`` set for a copy."""
    of: str | None = None
    """The first copy's article id (duplicates and copies)."""
    similarity: float = 1.0


def text_hash(text: str) -> str:
    norm = " ".join(re.findall(r"\w+", text.lower()))
    return hashlib.sha256(norm.encode()).hexdigest()


class Ingester:
    def __init__(self, path: Path, window_days: float = 3.0, threshold: float = 0.5) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self.lock = threading.Lock()
        self.window = dt.timedelta(days=window_days)
        self.threshold = threshold
        with self.lock, self.db:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.executescript(_SCHEMA)

    def close(self) -> None:
        with self.lock:
            self.db.close()

    def decide(self, article: Article, now: dt.datetime | None = None) -> Decision:
        now = now or dt.datetime.now(dt.UTC)
        at = now.isoformat()
        key: str | None = None
        if article.url:
            try:
                key = canonical_url(article.url)
            except ValueError:
                key = None
        with self.lock, self.db:
            if key:
                row = self.db.execute("SELECT article_id FROM seen_urls WHERE url = ?", (key,)).fetchone()
                if row:
                    return Decision("duplicate", article, row[0])
            digest = text_hash(article.text)
            row = self.db.execute("SELECT article_id FROM seen_texts WHERE hash = ?", (digest,)).fetchone()
            if row and row[0] != article.id:
                self._remember_url(key, article.id, at)
                return Decision("copy", article.model_copy(update={"copy_of": row[0]}), row[0])
            if row:  # the same article id again (a replay without URLs): a duplicate
                return Decision("duplicate", article, row[0])
            self.db.execute("INSERT OR IGNORE INTO seen_texts VALUES (?, ?, ?)", (digest, article.id, at))
            self._remember_url(key, article.id, at)
            if len(article.text.split()) >= MIN_WORDS_FOR_NEAR:
                sig = neardup.signature(article.text)
                best = self._nearest(sig, article.id, (now - self.window).isoformat())
                if best is not None and best[1] >= self.threshold:
                    return Decision("copy", article.model_copy(update={"copy_of": best[0]}), best[0], best[1])
                self.db.execute("INSERT OR REPLACE INTO signatures VALUES (?, ?, ?)",
                                (article.id, neardup.pack(sig), at))
                self.db.executemany("INSERT INTO bands VALUES (?, ?, ?)",
                                    [(b, article.id, at) for b in neardup.bands(sig)])
            return Decision("new", article)

    def _remember_url(self, key: str | None, article_id: str, at: str) -> None:
        if key:
            self.db.execute("INSERT OR IGNORE INTO seen_urls VALUES (?, ?, ?)", (key, article_id, at))

    def _nearest(self, sig: tuple[int, ...], article_id: str, since: str) -> tuple[str, float] | None:
        band_keys = list(neardup.bands(sig))
        marks = ",".join("?" * len(band_keys))
        rows = self.db.execute(
            f"SELECT DISTINCT s.article_id, s.sig FROM bands b JOIN signatures s ON s.article_id = b.article_id "
            f"WHERE b.band IN ({marks}) AND b.at >= ? AND b.article_id != ?", (*band_keys, since, article_id)
        ).fetchall()
        scored = [(aid, neardup.similarity(sig, neardup.unpack(raw))) for aid, raw in rows]
        return max(scored, key=lambda t: t[1], default=None)

    def expire(self, now: dt.datetime | None = None) -> int:
        """Forget signatures older than the window (URLs and text hashes are kept: they are small)."""
        cutoff = ((now or dt.datetime.now(dt.UTC)) - self.window).isoformat()
        with self.lock, self.db:
            n = self.db.execute("DELETE FROM bands WHERE at < ?", (cutoff,)).rowcount
            self.db.execute("DELETE FROM signatures WHERE at < ?", (cutoff,))
        return int(n)
