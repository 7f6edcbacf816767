"""The alert stage, the same in both modes: rules decide, a ledger remembers, a dispatcher delivers.

* ``Alerter.on_event(event)`` applies the rules. For each (event, target) it claims a record in the
  ledger: created only if absent (the first alert), or compare-and-set when an ``updates`` rule sees the
  corroboration or seniority rise (an update alert). A second report of the same event finds the record
  and sends nothing; so does a restart, a redelivery or another worker.
* The claimed record holds the exact body and delivery id; a thread pool delivers it (a slow receiver
  holds up a delivery thread, never the extraction), then marks it ``sent`` or ``dead`` with the last
  error. Records still ``pending`` after a crash are resent at start with the same delivery id, which
  receivers can use to drop the rare duplicate.
* Ledgers: SQLite beside the embedded store; an Elasticsearch index in the distributed mode (create and
  compare-and-set with sequence numbers, so workers never both claim one alert).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal, Protocol

from elasticsearch import ApiError, ConflictError, Elasticsearch, NotFoundError
from pydantic import BaseModel

from extractors import DefectionEvent
from extractors.dedup import top_rank
from streams import webhooks
from streams.metrics import Metrics
from streams.rules import Rule, RuleSet
from streams.store import ALERT_LOG_DDL

NO_TARGET = "-"
"""The target of a rule that routes nowhere: the alert is recorded and shown, not sent."""

Status = Literal["pending", "sent", "dead", "recorded"]


class AlertRecord(BaseModel):
    """One alert of one event to one target (the ledger's row, keyed ``event_id|target``)."""

    event_id: str
    target: str
    rule: str
    kind: Literal["new", "update"]
    delivery_id: str
    corroboration: int
    seniority: float
    status: Status
    body: str
    summary: str
    attempts: int = 0
    last_error: str | None = None
    at: dt.datetime

    @property
    def key(self) -> str:
        return f"{self.event_id}|{self.target}"


class Ledger(Protocol):
    def get(self, key: str) -> tuple[AlertRecord, Any] | None: ...

    def create(self, rec: AlertRecord) -> bool:
        """Store ``rec`` unless its key exists; False when it does."""
        ...

    def replace(self, rec: AlertRecord, version: Any) -> bool:
        """Store ``rec`` if the stored version is still ``version``; False when someone wrote in between."""
        ...

    def update(self, rec: AlertRecord) -> None:
        """Record a delivery's outcome, unless a newer alert (another delivery id) has been claimed since."""
        ...

    def pending(self, older_than: float) -> list[tuple[AlertRecord, Any]]: ...


def summary(event: DefectionEvent, kind: str) -> str:
    who = "; ".join(
        f"{d.name} ({d.rank})" if d.name and d.rank else d.name or f"{d.count} x {d.rank or 'official'}"
        for d in event.defectors) or "unnamed"
    route = f"from {event.from_ or '?'}" + (f" to {event.to}" if event.to else "")
    side = f", joined {event.joined}" if event.joined else ""
    link = next((s.url for s in event.sources if s.url), None)
    label = "Defection update" if kind == "update" else "Senior defection"
    return (f"{label}: {who} {route}{side}. Reported by {event.corroboration} source(s), confidence "
            f"{event.confidence:.2f}." + (f" {link}" if link else ""))


def body_for(event: DefectionEvent, rule: Rule, target: str, kind: str, delivery_id: str, fmt: str) -> str:
    text = summary(event, kind)
    if fmt == "slack":
        return json.dumps({"text": text})
    return json.dumps({
        "delivery_id": delivery_id, "kind": kind, "rule": rule.name, "target": target, "summary": text,
        "event": event.to_json_dict(), "top_rank": top_rank(event), "evidence": event.evidence,
        "sources": [{"url": s.url, "source": s.source, "title": s.title,
                     "published": s.published.isoformat() if s.published else None} for s in event.sources],
    }, ensure_ascii=False)


def delivery_id_for(event: DefectionEvent, target: str, kind: str) -> str:
    basis = f"{event.event_id}|{target}|{kind}|{event.corroboration}|{event.seniority}"
    return "dl-" + hashlib.sha1(basis.encode()).hexdigest()[:20]


class Alerter:
    def __init__(self, rules: RuleSet, ledger: Ledger, metrics: Metrics | None = None,
                 log: Callable[[str], None] = print, workers: int = 4, env: Mapping[str, str] | None = None,
                 base_delay: float = 1.0) -> None:
        self.rules = rules
        self.ledger = ledger
        self.metrics = metrics or Metrics()
        self.log = log
        self.env = env
        self.base_delay = base_delay
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="defwatch-alert")
        self._inflight = 0
        self._lock = threading.Lock()

    def on_event(self, event: DefectionEvent) -> list[AlertRecord]:
        """Claim and dispatch the alerts ``event`` calls for; returns the ones claimed now."""
        if event.merged_into or not event.event_id:
            return []
        claimed: list[AlertRecord] = []
        done: set[str] = set()
        for rule in self.rules.rules:
            if not rule.fires(event):
                continue
            for target in rule.targets or (NO_TARGET,):
                if target in done:
                    continue  # one alert per event and target, whichever rule fires first
                done.add(target)
                rec = self._claim(event, rule, target)
                if rec is not None:
                    claimed.append(rec)
                    self._dispatch(rec)
        return claimed

    def _claim(self, event: DefectionEvent, rule: Rule, target: str) -> AlertRecord | None:
        key = f"{event.event_id}|{target}"
        stored = self.ledger.get(key)
        if stored is None:
            kind = "new"
        else:
            old, _ = stored
            if not rule.updates or (event.corroboration <= old.corroboration and event.seniority <= old.seniority):
                return None
            kind = "update"
        fmt = self.rules.target(target).format if target != NO_TARGET else "json"
        did = delivery_id_for(event, target, kind)
        rec = AlertRecord(event_id=event.event_id, target=target, rule=rule.name, kind=kind, delivery_id=did,
                          corroboration=event.corroboration, seniority=event.seniority,
                          status="recorded" if target == NO_TARGET else "pending",
                          body=body_for(event, rule, target, kind, did, fmt), summary=summary(event, kind),
                          at=dt.datetime.now(dt.UTC))
        ok = self.ledger.create(rec) if stored is None else self.ledger.replace(rec, stored[1])
        return rec if ok else None

    def _dispatch(self, rec: AlertRecord) -> None:
        if rec.target == NO_TARGET:
            self.metrics.alerts.labels(target=NO_TARGET, kind=rec.kind, outcome="recorded").inc()
            return
        with self._lock:
            self._inflight += 1
            self.metrics.stage_backlog.labels(stage="alert").set(self._inflight)
        self.pool.submit(self._send, rec, time.monotonic())

    def _send(self, rec: AlertRecord, decided: float) -> None:
        try:
            target = self.rules.target(rec.target)
        except StopIteration:
            rec = rec.model_copy(update={"status": "dead", "last_error": "target no longer in the rules"})
            self.ledger.update(rec)
            return self._done(rec, "dead_lettered")
        try:
            def retried(attempt: webhooks.Attempt, delay: float) -> None:
                self.metrics.alerts.labels(target=rec.target, kind=rec.kind, outcome="retried").inc()
                self.log(f"alert {rec.delivery_id} to {rec.target}: {attempt.error}; retry in {delay:.1f}s")

            out = webhooks.deliver(target, rec.body.encode(), rec.delivery_id, target.secret(self.env),
                                   on_retry=retried, base_delay=self.base_delay)
            if out.delivered:
                self.metrics.alert_latency.labels(target=rec.target).observe(time.monotonic() - decided)
            rec = rec.model_copy(update={"status": "sent" if out.delivered else "dead", "attempts": out.attempts,
                                         "last_error": out.last_error, "at": dt.datetime.now(dt.UTC)})
            self.ledger.update(rec)
            if not out.delivered:
                self.log(f"alert {rec.delivery_id} to {rec.target} dead-lettered after {out.attempts} "
                         f"attempt(s): {out.last_error}")
            self._done(rec, "sent" if out.delivered else "refused" if out.refused else "dead_lettered")
        except Exception as exc:  # a bug or a ledger outage: the record stays pending and is resent at start
            self.log(f"alert {rec.delivery_id} to {rec.target}: {type(exc).__name__}: {exc}")
            self._done(rec, "error")

    def _done(self, rec: AlertRecord, outcome: str) -> None:
        self.metrics.alerts.labels(target=rec.target, kind=rec.kind, outcome=outcome).inc()
        self.metrics.touch("alert")
        with self._lock:
            self._inflight -= 1
            self.metrics.stage_backlog.labels(stage="alert").set(self._inflight)

    def resume(self, older_than: float = 0.0) -> int:
        """Resend deliveries left pending by a stopped process (same body, same delivery id)."""
        n = 0
        for rec, version in self.ledger.pending(older_than):
            again = rec.model_copy(update={"at": dt.datetime.now(dt.UTC)})
            if self.ledger.replace(again, version):  # take it over, so two workers do not both resend
                self._dispatch(again)
                n += 1
        if n:
            self.log(f"resending {n} alert(s) left pending")
        return n

    def close(self, wait: bool = True) -> None:
        self.pool.shutdown(wait=wait, cancel_futures=not wait)


class SqliteLedger:
    """The embedded mode's sent-alert record: a table beside the embedded store (its own connection, so
    delivery threads can write while the runner reads)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self.lock = threading.Lock()
        with self.lock, self.db:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute(ALERT_LOG_DDL)

    def get(self, key: str) -> tuple[AlertRecord, int] | None:
        with self.lock:
            row = self.db.execute("SELECT body, version FROM alert_log WHERE key = ?", (key,)).fetchone()
        return (AlertRecord.model_validate_json(row[0]), int(row[1])) if row else None

    def create(self, rec: AlertRecord) -> bool:
        with self.lock, self.db:
            cur = self.db.execute("INSERT OR IGNORE INTO alert_log VALUES (?, ?, ?, 1, ?)",
                                  (rec.key, rec.status, rec.at.isoformat(), rec.model_dump_json()))
        return cur.rowcount == 1

    def replace(self, rec: AlertRecord, version: int) -> bool:
        with self.lock, self.db:
            cur = self.db.execute("UPDATE alert_log SET status = ?, at = ?, body = ?, version = version + 1 "
                                  "WHERE key = ? AND version = ?",
                                  (rec.status, rec.at.isoformat(), rec.model_dump_json(), rec.key, version))
        return cur.rowcount == 1

    def update(self, rec: AlertRecord) -> None:
        with self.lock, self.db:
            self.db.execute("UPDATE alert_log SET status = ?, at = ?, body = ?, version = version + 1 "
                            "WHERE key = ? AND json_extract(body, '$.delivery_id') = ?",
                            (rec.status, rec.at.isoformat(), rec.model_dump_json(), rec.key, rec.delivery_id))

    def pending(self, older_than: float) -> list[tuple[AlertRecord, int]]:
        cutoff = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=older_than)).isoformat()
        with self.lock:
            rows = self.db.execute("SELECT body, version FROM alert_log WHERE status = 'pending' AND at <= ?",
                                   (cutoff,)).fetchall()
        return [(AlertRecord.model_validate_json(b), int(v)) for b, v in rows]

    def all(self) -> list[AlertRecord]:
        with self.lock:
            rows = self.db.execute("SELECT body FROM alert_log ORDER BY at").fetchall()
        return [AlertRecord.model_validate_json(b) for (b,) in rows]

    def close(self) -> None:
        with self.lock:
            self.db.close()


_ALERTS_MAPPING = {"dynamic": "false", "properties": {
    "event_id": {"type": "keyword"}, "target": {"type": "keyword"}, "rule": {"type": "keyword"},
    "kind": {"type": "keyword"}, "delivery_id": {"type": "keyword"}, "status": {"type": "keyword"},
    "corroboration": {"type": "integer"}, "seniority": {"type": "float"}, "attempts": {"type": "integer"},
    "last_error": {"type": "text"}, "summary": {"type": "text"}, "at": {"type": "date"},
    "body": {"type": "text", "index": False}}}


class EsLedger:
    """The distributed mode's sent-alert record: index ``<prefix>-alerts``, ``_id`` = ``event_id|target``;
    ``create`` and sequence-number compare-and-set make one claim win across workers and restarts."""

    def __init__(self, es: Elasticsearch, index: str) -> None:
        self.es = es
        self.index = index
        if not es.indices.exists(index=index):
            try:
                es.indices.create(index=index, mappings=_ALERTS_MAPPING,
                                  settings={"number_of_shards": 1, "number_of_replicas": 0})
            except ApiError as exc:
                if "resource_already_exists" not in str(exc):
                    raise

    def get(self, key: str) -> tuple[AlertRecord, tuple[int, int]] | None:
        try:
            doc = self.es.get(index=self.index, id=key)
        except NotFoundError:
            return None
        return AlertRecord.model_validate(doc["_source"]), (doc["_seq_no"], doc["_primary_term"])

    def create(self, rec: AlertRecord) -> bool:
        try:
            self.es.create(index=self.index, id=rec.key, document=rec.model_dump(mode="json"))
        except ConflictError:
            return False
        return True

    def replace(self, rec: AlertRecord, version: tuple[int, int]) -> bool:
        try:
            self.es.index(index=self.index, id=rec.key, document=rec.model_dump(mode="json"), if_seq_no=version[0],
                          if_primary_term=version[1])
        except ConflictError:
            return False
        return True

    def update(self, rec: AlertRecord) -> None:
        for _ in range(10):
            stored = self.get(rec.key)
            if stored is None or stored[0].delivery_id != rec.delivery_id:
                return  # a newer alert of this event and target was claimed meanwhile: its record stays
            if self.replace(rec, stored[1]):
                return

    def pending(self, older_than: float) -> list[tuple[AlertRecord, tuple[int, int]]]:
        cutoff = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=older_than)).isoformat()
        self.es.indices.refresh(index=self.index)
        res = self.es.search(index=self.index, size=1000, seq_no_primary_term=True, query={"bool": {"filter": [
            {"term": {"status": "pending"}}, {"range": {"at": {"lte": cutoff}}}]}})
        return [(AlertRecord.model_validate(h["_source"]), (h["_seq_no"], h["_primary_term"]))
                for h in res["hits"]["hits"]]
