"""Publishing articles to Kafka with kafka-python: idempotent producer, ``acks=all``, keyed by the
article's canonical URL (or id). Bad input goes to the dead-letter topic with its reason."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from kafka import KafkaProducer

from extractors import Article
from streams.inputs import InputError
from streams.metrics import Metrics
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
            metrics: Metrics | None = None) -> tuple[int, int]:
    """Send articles to the articles topic (bad records to the dead-letter topic); returns
    (articles sent, records dead-lettered). ``rate`` limits articles per second."""
    own = prod is None
    p = prod or producer(settings)
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
            p.send(settings.topic("articles"), key=article_key(item), value=article_bytes(item))
            sent += 1
            if metrics:
                metrics.articles.labels(source=(item.source or "unknown")[:64], outcome="published").inc()
                metrics.touch("ingest")
            if rate:
                ahead = sent / rate - (time.monotonic() - start)
                if ahead > 0:
                    time.sleep(ahead)
        p.flush(timeout=60)
    finally:
        if own:
            p.close(timeout=30)
    return sent, bad
