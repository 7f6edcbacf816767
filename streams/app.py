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
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import partial
from typing import Any

import faust

from extractors import Article, DefectionEvent, Extractor, Window, entity_key, merge
from extractors.dedup import with_event_id
from streams import indexer, templates
from streams.alerts import Alerter, EsLedger, SqliteLedger
from streams.inputs import InputError
from streams.metrics import Metrics, serve
from streams.records import DeadLetter, decode_article, decode_event, event_bytes
from streams.rules import load_rules
from streams.settings import Settings
from streams.stages import copy_reports, extract_stage, observe_dedup, observe_extraction

log = logging.getLogger("defwatch.worker")
AGENTS = ("extract", "dedup", "index", "index_reports", "alert")
"""The agents a worker can run (``DEFWATCH_AGENTS``; all by default). A separate alerter runs ``alert``
alone under its own consumer group (``DEFWATCH_WORKER_GROUP``)."""
MAX_ORIGINALS = 50_000
"""Recent articles whose reports a worker keeps for their wire copies."""
STALE_PENDING_S = 900.0
"""An alert claimed but still pending after this long belongs to a worker that stopped; it is resent."""


def _say(msg: str) -> None:
    print(f"defwatch worker: {msg}", file=sys.stderr, flush=True)


def create_app(settings: Settings, extractor_factory: Callable[[], Extractor] | None = None,
               metrics: Metrics | None = None) -> faust.App:
    """The Faust app for ``settings`` (Kafka at ``settings.kafka``, Elasticsearch at
    ``settings.elasticsearch``), counting into ``metrics`` (a new registry by default)."""
    if not settings.kafka:
        raise ValueError("the distributed mode needs DEFWATCH_KAFKA (bootstrap servers)")
    datadir = settings.data_dir / "faust" / settings.topic_prefix
    datadir.mkdir(parents=True, exist_ok=True)
    unknown = set(settings.agents) - set(AGENTS)
    if unknown:
        raise ValueError(f"unknown agent(s) {', '.join(sorted(unknown))}; choose from {', '.join(AGENTS)}")
    app = faust.App(
        settings.worker_group or settings.topic_prefix,
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
    metrics = metrics or Metrics()
    from faust.sensors.prometheus import FaustMetrics, PrometheusMonitor

    # Faust's own sensor (consumer offsets, end offsets -> lag; rebalances; send latency) on our registry
    app.monitor = PrometheusMonitor(metrics=FaustMetrics.create(metrics.registry, "defwatch_faust"))
    raw: dict[str, Any] = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw",
                           "value_serializer": "raw", "partitions": settings.partitions, "internal": True}
    articles = app.topic(settings.topic("articles"), **raw)
    reports = app.topic(settings.topic("reports"), **raw)
    events = app.topic(settings.topic("events"), **raw)
    deadletter = app.topic(settings.topic("deadletter"), **raw)
    linked = app.topic(settings.topic("reports-linked"), **raw)  # each article report + its canonical event id
    window = Window(group_days=settings.dedup_window)
    # Plain JSON lists of canonical events per entity key (a typed value_type would need a faust Record).
    state = (app.Table("dedup", default=list, partitions=settings.partitions, key_type=str)
             if "dedup" in settings.agents else {})
    # Reports of recent articles by id, for their wire copies (which arrive later on the same partition:
    # they are keyed by the original's id). In memory and bounded: a copy whose original is not here (a
    # restart, a rebalance, an old original) is simply extracted like any article - same events, one
    # more source - so this only saves work, it never decides the outcome.
    originals: OrderedDict[str, list[dict[str, object]]] = OrderedDict()

    def agent(name: str, topic: faust.TopicT) -> Callable[[Callable[..., Any]], Any]:
        """``app.agent`` for the agents this worker runs (``DEFWATCH_AGENTS``); the others are not started."""
        return app.agent(topic) if name in settings.agents else (lambda fn: fn)

    def timer(owner: str, seconds: float) -> Callable[[Callable[..., Any]], Any]:
        return app.timer(interval=seconds) if owner in settings.agents else (lambda fn: fn)

    holder: dict[str, Extractor] = {}

    def extractor() -> Extractor:
        if "x" not in holder:
            holder["x"] = (extractor_factory or (lambda: Extractor(model=settings.spacy_model,
                                                                   batch_size=settings.batch_size)))()
        return holder["x"]

    async def dead(source: str, reason: str, payload: bytes | str | None, key: bytes | None = None) -> None:
        _say(f"dead-letter: {source}: {reason}")
        metrics.dead_letter(reason)
        await deadletter.send(key=key, value=DeadLetter.of(source, reason, payload, key).to_bytes())

    @agent("extract", articles)
    async def extract(stream: faust.StreamT[bytes]) -> None:
        """articles -> reports (one per event per article), keyed by entity key for the dedup table."""
        async for batch in stream.take(settings.batch_size, within=0.1):
            good: list[Article] = []
            copies: list[Article] = []
            for value in batch:
                item = decode_article(value, settings.topic("articles"))
                if isinstance(item, InputError):
                    await dead(item.ref, item.problem, value)
                elif item.copy_of and (item.copy_of in originals or any(g.id == item.copy_of for g in good)):
                    copies.append(item)
                else:
                    good.append(item)
            started = time.perf_counter()
            try:
                results = list(extract_stage(extractor(), good))
            except Exception as exc:  # a bug must not stop the stream: dead-letter the batch's articles
                for a in good:
                    await dead(f"article {a.id}", f"extraction failed: {type(exc).__name__}: {exc}",
                               a.model_dump_json())
                results = []
            if good:
                metrics.extraction.observe((time.perf_counter() - started) / len(good))
            for article, found, passed in results:
                metrics.articles.labels(source=(article.source or "unknown")[:64], outcome="accepted").inc()
                observe_extraction(metrics, found, passed)
                originals[article.id] = [r.to_json_dict() for r in found]
                while len(originals) > MAX_ORIGINALS:
                    originals.popitem(last=False)
                for report in found:
                    await reports.send(key=entity_key(report).encode(), value=event_bytes(report))
                log.info("article %s: %d report(s)", article.id, len(found))
            for copy in copies:  # not extracted again: the original's reports, with this outlet as source
                original = [DefectionEvent.model_validate(d) for d in originals.get(copy.copy_of or "", [])]
                metrics.articles.labels(source=(copy.source or "unknown")[:64], outcome="copy").inc()
                for report in copy_reports(original, copy):
                    await reports.send(key=entity_key(report).encode(), value=event_bytes(report))
            # Delivered before the batch's offsets can be committed: a crash re-reads, never loses.
            await app.producer.flush()

    @agent("dedup", reports)
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
            live, canon, is_new, absorbed = merge(candidates, report, dt.datetime.now(dt.UTC), window)
            observe_dedup(metrics, [(canon, is_new)])
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

    def timed(sink: str, fn: Callable[..., int], *args: Any) -> int:
        with metrics.timed_write(sink):
            return fn(*args)

    async def decoded(batch: list[bytes], topic: str) -> list[DefectionEvent]:
        out = []
        for value in batch:
            try:
                out.append(decode_event(value))
            except Exception as exc:
                await dead(topic, f"bad event: {exc}", value)
        return out

    @agent("index", events)
    async def index(stream: faust.StreamT[bytes]) -> None:
        """events -> ``<prefix>-events``: read-modify-write upserts keyed by ``event_id`` (a redelivered
        or out-of-order version merges its sources in, never duplicates or drops them)."""
        async for batch in stream.take(200, within=0.1):
            evs = await decoded(batch, settings.topic("events"))
            if es is not None and evs:
                await es_ready()
                await indexer.until_done(partial(timed, "elasticsearch", indexer.upsert_events, es,
                                                 names.events_alias, evs), "events", _say)
                metrics.touch("index")

    @agent("index_reports", linked)
    async def index_reports(stream: faust.StreamT[bytes]) -> None:
        """reports-linked -> the monthly ``<prefix>-reports`` indices (one document per article report)."""
        async for batch in stream.take(200, within=0.1):
            reps = await decoded(batch, settings.topic("reports-linked"))
            if es is not None and reps:
                await es_ready()
                await indexer.until_done(partial(indexer.index_reports, es, names, reps), "reports", _say)

    @timer("index", 3600.0)
    async def retention() -> None:
        """Old report months go (canonical events stay) where the cluster has no ILM to do it."""
        caps = ready.get("caps")
        if es is not None and caps is not None and not caps.ilm:
            try:
                await asyncio.to_thread(templates.cleanup_reports, es, names, settings.report_retention_days,
                                        None, _say)
            except Exception as exc:  # retried at the next tick
                _say(f"report cleanup failed: {type(exc).__name__}: {exc}")

    rules = load_rules(settings.alert_rules, settings.alert_seniority, settings.alert_confidence)
    alerters: dict[str, Alerter] = {}

    def alerter() -> Alerter:
        """Built on first use (Elasticsearch may be down when the worker starts); the sent-alert ledger
        is ``<prefix>-alerts`` in Elasticsearch, or SQLite in the data directory without it."""
        if "a" not in alerters:
            ledger = (EsLedger(es, f"{settings.es_prefix}-alerts") if es is not None
                      else SqliteLedger(settings.data_dir / "alerts.sqlite3"))
            alerters["a"] = Alerter(rules, ledger, metrics, _say)
            alerters["a"].resume(older_than=STALE_PENDING_S)
        return alerters["a"]

    def claim_alerts(ev: DefectionEvent) -> int:
        return len(alerter().on_event(ev))

    @agent("alert", events)
    async def alert(stream: faust.StreamT[bytes]) -> None:
        """events -> alert rules -> webhooks. Deciding and claiming happen here (the event's offset is
        not committed before its alerts are claimed); deliveries run on the alerter's own threads."""
        async for value in stream:
            try:
                ev = decode_event(value)
            except Exception:
                continue  # the index agent dead-letters undecodable events
            await indexer.until_done(partial(claim_alerts, ev), "alert ledger", _say)

    @timer("alert", 300.0)
    async def resend_orphans() -> None:
        """Alerts a stopped worker claimed but never delivered are taken over and resent."""
        if "a" in alerters:
            try:
                await asyncio.to_thread(alerters["a"].resume, STALE_PENDING_S)
            except Exception as exc:  # retried at the next tick
                _say(f"alert resend check failed: {type(exc).__name__}: {exc}")

    app.defwatch_topics = {"articles": articles, "reports": reports, "events": events,  # type: ignore[attr-defined]
                           "deadletter": deadletter, "reports-linked": linked}
    app.defwatch_metrics = metrics  # type: ignore[attr-defined]
    return app


def run_worker(settings: Settings, loglevel: str = "warning", metrics: Metrics | None = None) -> int:
    """Run one Faust worker until it is stopped (SIGINT/SIGTERM), serving ``/metrics``."""
    app = create_app(settings, metrics=metrics)
    serve(app.defwatch_metrics, settings.metrics_port, settings.metrics_host, _say)  # type: ignore[attr-defined]
    worker = faust.Worker(app, loglevel=loglevel, quiet=True)
    worker.execute_from_commandline()
    return 0
