"""The embedded default: every stage in one process, on the SQLite store."""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import FrameType

from extractors import Article, Deduplicator, Extractor, Window
from streams.alerts import Alerter, SqliteLedger
from streams.display import render_table
from streams.feeds import FeedPoller
from streams.inputs import InputError, read_input
from streams.metrics import Metrics, serve
from streams.rules import load_rules
from streams.settings import Settings
from streams.stages import Processed, process
from streams.store import Store

SAMPLE_FEED = Path(__file__).parent / "data" / "sample_articles.jsonl"


def _source_label(article: Article) -> str:
    """A bounded metrics label: the outlet, or the kind of input."""
    return (article.source or "unknown")[:64]


class EmbeddedRunner:
    def __init__(self, settings: Settings, extractor: Extractor | None = None,
                 log: Callable[[str], None] | None = None, metrics: Metrics | None = None) -> None:
        self.settings = settings
        self.log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self.metrics = metrics or Metrics()
        rules = load_rules(settings.alert_rules, settings.alert_seniority, settings.alert_confidence)
        self.extractor = extractor or Extractor(model=settings.spacy_model, batch_size=settings.batch_size)
        self.store = Store(settings.store_path)
        self.ledger = SqliteLedger(settings.store_path)
        self.alerter = Alerter(rules, self.ledger, self.metrics, self.log)
        self.dedup = Deduplicator(Window(group_days=settings.dedup_window))
        self.store.load_dedup(self.dedup)
        self.poller = FeedPoller(settings.feeds, settings.poll_interval, settings.fetch_timeout, self.log,
                                 metrics=self.metrics)
        self._stop = False
        self.alerts: list[str] = [r.summary for r in self.ledger.all()][-10:]

    def stop(self, *_: object) -> None:
        self._stop = True

    def ingest(self, items: Iterable[Article | InputError]) -> int:
        """Process new items; returns how many articles were processed (already-stored ones skipped)."""
        m = self.metrics

        def fresh() -> Iterable[Article | InputError]:
            for it in items:
                if isinstance(it, InputError):
                    yield it
                elif self.store.seen_article(it.id):
                    m.articles.labels(source=_source_label(it), outcome="duplicate").inc()
                else:
                    m.articles.labels(source=_source_label(it), outcome="accepted").inc()
                    yield it

        n = 0
        for out in process(self.extractor, self.dedup, fresh(), m):
            if isinstance(out, InputError):
                self.log(f"dead-letter: {out}")
                m.articles.labels(source="-", outcome="invalid").inc()
                m.dead_letter(out.problem)
                self.store.dead_letter(out)
                continue
            self._record(out)
            n += 1
        return n

    def _record(self, p: Processed) -> None:
        a = p.article
        with self.metrics.timed_write("sqlite"):
            self.store.save(a.id, a.url, a.title, a.published, a.source, p.reports, [c for c, _ in p.canonical],
                            p.absorbed)
        self.metrics.touch("store")
        for canon, _ in p.canonical:
            for rec in self.alerter.on_event(canon):
                self.alerts.append(f"ALERT ({rec.target}): {rec.summary}")

    def run(self, once: bool = False, sample: bool = True, refresh: float = 5.0) -> int:
        previous = signal.signal(signal.SIGINT, self._on_sigint)
        serve(self.metrics, self.settings.metrics_port, self.settings.metrics_host, self.log)
        self.alerter.resume()
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
            self.close()
            self.log("defwatch stopped; store at " + str(self.settings.store_path))
        return 0

    def close(self) -> None:
        """Wait for alert deliveries in flight (Ctrl-C again abandons them; they stay pending and are resent
        at the next start), then close the store."""
        self.alerter.close(wait=True)
        self.ledger.close()
        self.store.close()

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        self.log("stopping (Ctrl-C again to force)")
        self._stop = True
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def show(self) -> None:
        counts = self.store.counts()
        print(render_table(self.store.events(limit=25), counts, self.alerts[-10:]), flush=True)
