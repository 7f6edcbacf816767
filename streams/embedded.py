"""The embedded default: every stage in one process, on the SQLite store."""

from __future__ import annotations

import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import FrameType

from extractors import Article, Deduplicator, Extractor, Window
from streams.alerts import NO_TARGET, Alerter, SqliteLedger
from streams.display import render_table
from streams.feeds import FeedPoller
from streams.ingester import Ingester
from streams.inputs import InputError, read_input
from streams.metrics import Metrics, serve
from streams.push import PushServer
from streams.rules import load_rules
from streams.settings import Settings
from streams.stages import Processed, copy_reports, dedup_stage, process
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
        self.ingester = Ingester(settings.data_dir / "ingest.sqlite3", window_days=settings.copy_window_days)
        self.alerter = Alerter(rules, self.ledger, self.metrics, self.log)
        self.dedup = Deduplicator(Window(group_days=settings.dedup_window))
        self.store.load_dedup(self.dedup)
        self.poller = FeedPoller.from_settings(settings, self.log, self.metrics)
        self._stop = False
        self.inbox: queue.Queue[Sequence[Article | InputError]] = queue.Queue()
        """Articles taken by the push endpoint (its threads put, the run loop takes)."""
        self.alerts: list[str] = [r.summary for r in self.ledger.all()][-10:]

    def stop(self, *_: object) -> None:
        self._stop = True

    def ingest(self, items: Iterable[Article | InputError]) -> int:
        """Process new items; returns how many articles were processed (already-stored ones skipped)."""
        m = self.metrics

        copies: list[Article] = []

        def fresh() -> Iterable[Article | InputError]:
            for it in items:
                if isinstance(it, InputError):
                    yield it
                    continue
                verdict = "duplicate" if self.store.seen_article(it.id) else None
                if verdict is None:
                    decision = self.ingester.decide(it)
                    verdict = decision.verdict
                    if verdict == "copy":
                        copies.append(decision.article)
                m.articles.labels(source=_source_label(it), outcome="accepted" if verdict == "new" else verdict).inc()
                if verdict == "new":
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
        for copy in copies:  # after the loop: a copy's original may have been in this very batch
            reports = copy_reports(self.store.reports_of(copy.copy_of or ""), copy)
            self._record(dedup_stage(self.dedup, copy, reports))
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
                where = "recorded" if rec.target == NO_TARGET else f"to {rec.target}"
                self.alerts.append(f"ALERT ({where}): {rec.summary}")

    def run(self, once: bool = False, sample: bool = True, refresh: float = 5.0) -> int:
        main = threading.current_thread() is threading.main_thread()  # signals can only be caught there
        previous = signal.signal(signal.SIGINT, self._on_sigint) if main else None
        previous_term = signal.signal(signal.SIGTERM, self._on_sigint) if main else None
        serve(self.metrics, self.settings.metrics_port, self.settings.metrics_host, self.log)
        self.alerter.resume()
        push = self._start_push() if not once else None
        try:
            if sample and SAMPLE_FEED.exists():
                self.ingest(read_input(str(SAMPLE_FEED)))
            while True:
                self.ingest(self.poller.poll_due())
                self.ingest(self._pushed())
                self.show()
                if once or self._stop:
                    break
                deadline = time.monotonic() + refresh
                while time.monotonic() < deadline and not self._stop and self.inbox.empty():
                    time.sleep(0.2)
                if self._stop:
                    break
        finally:
            if main:
                signal.signal(signal.SIGINT, previous)
                signal.signal(signal.SIGTERM, previous_term)
            if push:
                push.stop()
            self.ingest(self._pushed())  # what the endpoint accepted before it stopped is not lost
            self.close()
            self.log("defwatch stopped; store at " + str(self.settings.store_path))
        return 0

    def _start_push(self) -> PushServer | None:
        if not self.settings.push_token:
            return None
        s = self.settings
        try:
            return PushServer(s.push_token or "", self.inbox.put, lambda e: self.inbox.put([e]), s.push_host,
                              s.push_port, log=self.log).start()
        except OSError as exc:
            self.log(f"push endpoint: cannot listen on {s.push_host}:{s.push_port} ({exc}); running without it")
            return None

    def _pushed(self) -> list[Article | InputError]:
        out: list[Article | InputError] = []
        while True:
            try:
                out.extend(self.inbox.get_nowait())
            except queue.Empty:
                return out

    def close(self) -> None:
        """Wait for alert deliveries in flight (Ctrl-C again abandons them; they stay pending and are resent
        at the next start), then close the store."""
        self.alerter.close(wait=True)
        self.ledger.close()
        self.ingester.close()
        self.store.close()

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        self.log("stopping (Ctrl-C again to force)")
        self._stop = True
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def show(self) -> None:
        counts = self.store.counts()
        print(render_table(self.store.events(limit=25), counts, self.alerts[-10:]), flush=True)
