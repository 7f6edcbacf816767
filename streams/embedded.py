"""The embedded default: every stage in one process, on the SQLite store."""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import FrameType

from extractors import Article, Deduplicator, Extractor, Window
from streams.display import render_table
from streams.feeds import FeedPoller
from streams.inputs import InputError, read_input
from streams.settings import Settings
from streams.stages import Processed, is_senior_alert, process
from streams.store import Store

SAMPLE_FEED = Path(__file__).parent / "data" / "sample_articles.jsonl"


class EmbeddedRunner:
    def __init__(self, settings: Settings, extractor: Extractor | None = None,
                 log: Callable[[str], None] | None = None) -> None:
        self.settings = settings
        self.log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self.extractor = extractor or Extractor(model=settings.spacy_model, batch_size=settings.batch_size)
        self.store = Store(settings.store_path)
        self.dedup = Deduplicator(Window(group_days=settings.dedup_window))
        self.store.load_dedup(self.dedup)
        self.poller = FeedPoller(settings.feeds, settings.poll_interval, settings.fetch_timeout, self.log)
        self._stop = False
        self.alerts: list[str] = []

    def stop(self, *_: object) -> None:
        self._stop = True

    def ingest(self, items: Iterable[Article | InputError]) -> int:
        """Process new items; returns how many articles were processed (already-stored ones skipped)."""
        fresh = (it for it in items if isinstance(it, InputError) or not self.store.seen_article(it.id))
        n = 0
        for out in process(self.extractor, self.dedup, fresh):
            if isinstance(out, InputError):
                self.log(f"dead-letter: {out}")
                self.store.dead_letter(out)
                continue
            self._record(out)
            n += 1
        return n

    def _record(self, p: Processed) -> None:
        a = p.article
        self.store.save(a.id, a.url, a.title, a.published, a.source, p.reports, [c for c, _ in p.canonical],
                        p.absorbed)
        for canon, _ in p.canonical:
            if is_senior_alert(canon, self.settings) and self.store.mark_alerted(canon.event_id):
                top = max(canon.defectors, key=lambda d: canon.seniority, default=None)
                who = (top.name or f"{top.count} x {top.rank}") if top else "?"
                self.alerts.append(f"SENIOR: {who} ({top.rank if top else '?'}) from {canon.from_ or '?'}"
                                   f" -> {canon.to or '?'} [{canon.event_id}]")

    def run(self, once: bool = False, sample: bool = True, refresh: float = 5.0) -> int:
        previous = signal.signal(signal.SIGINT, self._on_sigint)
        try:
            if sample and SAMPLE_FEED.exists():
                self.ingest(read_input(str(SAMPLE_FEED)))
            while True:
                self.ingest(self.poller.poll_due())
                self.show()
                if once or self._stop:
                    break
                deadline = time.monotonic() + refresh
                while time.monotonic() < deadline and not self._stop:
                    time.sleep(0.2)
                if self._stop:
                    break
        finally:
            signal.signal(signal.SIGINT, previous)
            self.store.close()
            self.log("defwatch stopped; store at " + str(self.settings.store_path))
        return 0

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        self.log("stopping (Ctrl-C again to force)")
        self._stop = True
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def show(self) -> None:
        counts = self.store.counts()
        print(render_table(self.store.events(limit=25), counts, self.alerts[-10:]), flush=True)
