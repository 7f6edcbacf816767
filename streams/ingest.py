"""Publishing articles to Kafka with kafka-python: idempotent producer, ``acks=all``, keyed by the
article's canonical URL (or id). Bad input goes to the dead-letter topic with its reason."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from kafka import KafkaProducer

from extractors import Article
from streams.ingester import Ingester
from streams.inputs import InputError
from streams.metrics import Metrics
from streams.push import PushServer
from streams.records import DeadLetter, article_bytes, article_key
from streams.settings import Settings


def producer(settings: Settings) -> KafkaProducer:
    if not settings.kafka:
        raise ValueError("publishing needs DEFWATCH_KAFKA (bootstrap servers)")
    return KafkaProducer(
        bootstrap_servers=[b.strip() for b in settings.kafka.split(",")],
        acks="all",
        enable_idempotence=True,
        retries=10,
        linger_ms=5,
        max_request_size=16 * 1024 * 1024,
        compression_type=None,
    )


def publish(settings: Settings, items: Iterable[Article | InputError], rate: float | None = None,
            log: Callable[[str], None] = print, prod: KafkaProducer | None = None,
            metrics: Metrics | None = None, ingester: Ingester | None = None) -> tuple[int, int]:
    """Send articles to the articles topic (bad records to the dead-letter topic); returns
    (articles sent, records dead-lettered). ``rate`` limits articles per second. Every article passes the
    ingester first: the same page again is dropped, a wire copy goes out marked ``copy_of`` and keyed by
    its original (same partition, so the worker that has the original's reports sees the copy after it)."""
    own = prod is None
    p = prod or producer(settings)
    own_ingester = ingester is None
    ing = ingester or Ingester(settings.data_dir / "ingest.sqlite3", window_days=settings.copy_window_days)
    sent = bad = 0
    start = time.monotonic()
    try:
        for item in items:
            if isinstance(item, InputError):
                bad += 1
                log(f"dead-letter: {item}")
                if metrics:
                    metrics.articles.labels(source="-", outcome="invalid").inc()
                    metrics.dead_letter(item.problem)
                p.send(settings.topic("deadletter"), value=DeadLetter.of(item.ref, item.problem, item.payload)
                       .to_bytes())
                continue
            decision = ing.decide(item)
            if metrics:
                outcome = "published" if decision.verdict == "new" else decision.verdict
                metrics.articles.labels(source=(item.source or "unknown")[:64], outcome=outcome).inc()
                metrics.touch("ingest")
            if decision.verdict == "duplicate":
                continue
            item = decision.article
            p.send(settings.topic("articles"), key=article_key(item), value=article_bytes(item))
            sent += 1
            if rate:
                ahead = sent / rate - (time.monotonic() - start)
                if ahead > 0:
                    time.sleep(ahead)
        p.flush(timeout=60)
    finally:
        if own:
            p.close(timeout=30)
        if own_ingester:
            ing.close()
    return sent, bad


class IngestService:
    """The distributed mode's ingester: live feeds (and, with ``DEFWATCH_PUSH_TOKEN``, the push endpoint)
    published to Kafka through one producer and one ingester (duplicates dropped, wire copies marked).
    ``defwatch ingest serve`` runs it alone; a distributed ``defwatch run`` runs it beside a worker."""

    def __init__(self, settings: Settings, log: Callable[[str], None], metrics: Metrics) -> None:
        from streams.feeds import FeedPoller

        self.settings, self.log, self.metrics = settings, log, metrics
        self.prod = producer(settings)
        self.ingester = Ingester(settings.data_dir / "ingest.sqlite3", window_days=settings.copy_window_days)
        self.poller = FeedPoller.from_settings(settings, log, metrics)
        self.stopping = threading.Event()
        self.push: PushServer | None = None

    def send(self, items: Iterable[Article | InputError]) -> tuple[int, int]:
        return publish(self.settings, items, log=self.log, prod=self.prod, metrics=self.metrics,
                       ingester=self.ingester)

    def start_push(self) -> None:
        s = self.settings
        if s.push_token:
            self.push = PushServer(s.push_token, self._take, self._refuse, s.push_host, s.push_port,
                                   log=self.log).start()

    def _take(self, articles: list[Article]) -> None:
        self.send(articles)  # publish() flushes: on Kafka before the client hears 202

    def _refuse(self, error: InputError) -> None:
        self.send([error])

    def run_feeds(self, sample: Iterable[Article | InputError] = ()) -> None:
        self.send(sample)
        while not self.stopping.is_set():
            self.send(self.poller.poll_due())
            self.stopping.wait(5)

    def close(self) -> None:
        self.stopping.set()
        if self.push:
            self.push.stop()
        self.prod.close(timeout=30)
        self.ingester.close()
