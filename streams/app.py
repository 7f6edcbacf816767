"""The distributed topology: one Faust app, five topics, five agents, one table.

    articles --extract--> reports --dedup (table keyed by entity key)--> events --index--> <prefix>-events
                                      |                                         \\--alert--> (hook)
                                      \\--> reports-linked --index_reports--> <prefix>-reports (monthly)
    anything that cannot be processed --> deadletter (reason + original payload)

Each agent calls the same stage functions as the embedded runner (``streams.stages`` and
``extractors.dedup.merge``), so the two modes cannot drift apart.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sys
from collections.abc import Callable
from functools import partial
from typing import Any

import faust

from extractors import Article, DefectionEvent, Extractor, Window, entity_key, merge
from extractors.dedup import with_event_id
from streams import indexer, templates
from streams.inputs import InputError
from streams.records import DeadLetter, decode_article, decode_event, event_bytes
from streams.settings import Settings
from streams.stages import extract_stage, is_senior_alert

log = logging.getLogger("defwatch.worker")


def _say(msg: str) -> None:
    print(f"defwatch worker: {msg}", file=sys.stderr, flush=True)


def create_app(settings: Settings, extractor_factory: Callable[[], Extractor] | None = None) -> faust.App:
    """The Faust app for ``settings`` (Kafka at ``settings.kafka``, Elasticsearch at
    ``settings.elasticsearch``)."""
    if not settings.kafka:
        raise ValueError("the distributed mode needs DEFWATCH_KAFKA (bootstrap servers)")
    datadir = settings.data_dir / "faust" / settings.topic_prefix
    datadir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        settings.topic_prefix,
        broker=[f"kafka://{b.strip()}" for b in settings.kafka.split(",")],
        store="memory://",  # tables are rebuilt from their changelog topics on start and rebalance
        topic_partitions=settings.partitions,
        topic_replication_factor=1,
        web_enabled=settings.worker_port > 0,
        web_port=settings.worker_port or 6066,
        web_host="127.0.0.1",
        datadir=str(datadir),
        consumer_max_fetch_size=16 * 1024 * 1024,
        producer_max_request_size=16 * 1024 * 1024,
        broker_commit_every=100,
        stream_buffer_maxsize=1024,
        table_cleanup_interval=60.0,
        broker_session_timeout=10.0,
        broker_heartbeat_interval=2.0,
    )
    raw: dict[str, Any] = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw",
                           "value_serializer": "raw", "partitions": settings.partitions, "internal": True}
    articles = app.topic(settings.topic("articles"), **raw)
    reports = app.topic(settings.topic("reports"), **raw)
    events = app.topic(settings.topic("events"), **raw)
    deadletter = app.topic(settings.topic("deadletter"), **raw)
    linked = app.topic(settings.topic("reports-linked"), **raw)  # each article report + its canonical event id
    window = Window(group_days=settings.dedup_window)
    # Plain JSON lists of canonical events per entity key (a typed value_type would need a faust Record).
    state = app.Table("dedup", default=list, partitions=settings.partitions, key_type=str)

    holder: dict[str, Extractor] = {}

    def extractor() -> Extractor:
        if "x" not in holder:
            holder["x"] = (extractor_factory or (lambda: Extractor(model=settings.spacy_model,
                                                                   batch_size=settings.batch_size)))()
        return holder["x"]

    async def dead(source: str, reason: str, payload: bytes | str | None, key: bytes | None = None) -> None:
        _say(f"dead-letter: {source}: {reason}")
        await deadletter.send(key=key, value=DeadLetter.of(source, reason, payload, key).to_bytes())

    @app.agent(articles)
    async def extract(stream: faust.StreamT[bytes]) -> None:
        """articles -> reports (one per event per article), keyed by entity key for the dedup table."""
        async for batch in stream.take(settings.batch_size, within=0.1):
            good: list[Article] = []
            for value in batch:
                item = decode_article(value, settings.topic("articles"))
                if isinstance(item, InputError):
                    await dead(item.ref, item.problem, value)
                else:
                    good.append(item)
            try:
                results = list(extract_stage(extractor(), good))
            except Exception as exc:  # a bug must not stop the stream: dead-letter the batch's articles
                for a in good:
                    await dead(f"article {a.id}", f"extraction failed: {type(exc).__name__}: {exc}",
                               a.model_dump_json())
                continue
            for article, found in results:
                for report in found:
                    await reports.send(key=entity_key(report).encode(), value=event_bytes(report))
                log.info("article %s: %d report(s)", article.id, len(found))
            # Delivered before the batch's offsets can be committed: a crash re-reads, never loses.
            await app.producer.flush()

    @app.agent(reports)
    async def dedup(stream: faust.StreamT[bytes]) -> None:
        """reports -> canonical events; the table holds the canonical events of each entity key."""
        async for key, value in stream.items():
            try:
                report = decode_event(value)
            except Exception as exc:
                await dead(settings.topic("reports"), f"bad report: {exc}", value, key)
                continue
            k = entity_key(report)
            candidates = [DefectionEvent.model_validate(d) for d in state[k]]
            live, canon, _, absorbed = merge(candidates, report, dt.datetime.now(dt.UTC), window)
            state[k] = [e.to_json_dict() for e in live]
            # The merged state reaches its changelog before anything downstream sees the result: a worker
            # killed now restarts from state that already holds this report, so a redelivered report
            # merges into the same event (same id) instead of starting a second one.
            await app.producer.flush()
            for gone in absorbed:  # joined into ``canon`` by this report: its document goes
                await events.send(key=gone.event_id.encode(), value=event_bytes(gone))
            await events.send(key=canon.event_id.encode(), value=event_bytes(canon))
            await linked.send(key=canon.event_id.encode(), value=event_bytes(with_event_id(report, canon)))
            await app.producer.flush()  # the event is delivered before this report's offset is committed

    es = indexer.connect(settings.elasticsearch) if settings.elasticsearch else None
    names = templates.Names(settings.es_prefix)
    ready: dict[str, templates.Capabilities] = {}

    setup_lock = asyncio.Lock()

    async def es_ready() -> None:
        """Templates, lifecycle policy, events index and alias, before the first write (idempotent)."""
        async with setup_lock:
            if es is not None and "caps" not in ready:
                def setup() -> int:
                    ready["caps"] = templates.ensure(es, names, settings.report_retention_days, _say)
                    return 0
                await indexer.until_done(setup, "index templates", _say)

    async def decoded(batch: list[bytes], topic: str) -> list[DefectionEvent]:
        out = []
        for value in batch:
            try:
                out.append(decode_event(value))
            except Exception as exc:
                await dead(topic, f"bad event: {exc}", value)
        return out

    @app.agent(events)
    async def index(stream: faust.StreamT[bytes]) -> None:
        """events -> ``<prefix>-events``: read-modify-write upserts keyed by ``event_id`` (a redelivered
        or out-of-order version merges its sources in, never duplicates or drops them)."""
        async for batch in stream.take(200, within=0.1):
            evs = await decoded(batch, settings.topic("events"))
            if es is not None and evs:
                await es_ready()
                await indexer.until_done(partial(indexer.upsert_events, es, names.events_alias, evs), "events", _say)

    @app.agent(linked)
    async def index_reports(stream: faust.StreamT[bytes]) -> None:
        """reports-linked -> the monthly ``<prefix>-reports`` indices (one document per article report)."""
        async for batch in stream.take(200, within=0.1):
            reps = await decoded(batch, settings.topic("reports-linked"))
            if es is not None and reps:
                await es_ready()
                await indexer.until_done(partial(indexer.index_reports, es, names, reps), "reports", _say)

    @app.timer(interval=3600.0)  # type: ignore[untyped-decorator]
    async def retention() -> None:
        """Old report months go (canonical events stay) where the cluster has no ILM to do it."""
        caps = ready.get("caps")
        if es is not None and caps is not None and not caps.ilm:
            try:
                await asyncio.to_thread(templates.cleanup_reports, es, names, settings.report_retention_days,
                                        None, _say)
            except Exception as exc:  # retried at the next tick
                _say(f"report cleanup failed: {type(exc).__name__}: {exc}")

    @app.agent(events)
    async def alert(stream: faust.StreamT[bytes]) -> None:
        """events -> senior alerts (the alert stage plugs in here)."""
        async for value in stream:
            try:
                ev = decode_event(value)
            except Exception:
                continue  # the index agent dead-letters undecodable events
            if is_senior_alert(ev, settings):
                log.warning("senior defection: %s", ev.event_id)

    app.defwatch_topics = {"articles": articles, "reports": reports, "events": events,  # type: ignore[attr-defined]
                           "deadletter": deadletter, "reports-linked": linked}
    return app


def run_worker(settings: Settings, loglevel: str = "warning") -> int:
    """Run one Faust worker until it is stopped (SIGINT/SIGTERM)."""
    app = create_app(settings)
    worker = faust.Worker(app, loglevel=loglevel, quiet=True)
    worker.execute_from_commandline()
    return 0
