"""Writing to Elasticsearch.

Canonical events: one document per ``event_id``, written by read-modify-write upserts. The indexer
reads the stored document with its sequence number, folds the incoming version in with
``extractors.dedup.combine`` (union of sources, earliest first-seen, latest last-seen), and writes it
back only if nobody wrote in between (``if_seq_no`` / ``if_primary_term``); a conflict re-reads and
re-folds. So a redelivered or out-of-order version never loses a source or counts one twice, and two
workers racing on one event both land. (Scripted upserts would need the Painless module, which the
minimal distribution the tests run does not have; this works on every cluster.)

Raw reports: one document per article report, ``_id`` derived from the article and the evidence, in
the monthly reports index (``streams/templates.py``).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterable
from typing import Any

from elasticsearch import Elasticsearch, helpers
from elasticsearch.exceptions import ApiError, TransportError

from extractors import DefectionEvent
from extractors.dedup import combine
from streams.documents import event_doc, report_doc, report_id, report_month
from streams.templates import Names

MAX_CONFLICT_ROUNDS = 20


class IndexRefused(RuntimeError):
    """Documents that Elasticsearch refused for a reason other than a version conflict."""


def connect(url: str, timeout: float = 10.0) -> Elasticsearch:
    return Elasticsearch(url, request_timeout=timeout, max_retries=0, retry_on_timeout=False)


def _latest(events: Iterable[DefectionEvent]) -> dict[str, DefectionEvent]:
    """One version per event id (several versions of one event in a batch are folded together)."""
    out: dict[str, DefectionEvent] = {}
    for e in events:
        out[e.event_id] = e if e.merged_into else combine(out.get(e.event_id), e)
    return out


def _bulk(es: Elasticsearch, actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run the actions through the client's bulk helper (which retries 429s with backoff); return the
    failed items."""
    failed = []
    for ok, item in helpers.streaming_bulk(es, actions, raise_on_error=False, raise_on_exception=True,
                                           max_retries=5, initial_backoff=0.5, max_backoff=10, chunk_size=200):
        if not ok:
            failed.append(item)
    return failed


def upsert_events(es: Elasticsearch, alias: str, events: Iterable[DefectionEvent]) -> int:
    """Fold each event into its stored document; delete the documents of events joined into others.
    Returns how many documents changed. Raises ``IndexRefused`` on a refusal that retrying cannot fix."""
    pending = _latest(events)
    changed = 0
    deletes = [{"_op_type": "delete", "_index": alias, "_id": i} for i, e in pending.items() if e.merged_into]
    failed = [f for f in _bulk(es, deletes) if f.get("delete", {}).get("status") != 404]
    if failed:
        raise IndexRefused(f"{len(failed)} deletes refused: {str(failed[0])[:300]}")
    changed += len(deletes)
    todo = {i: e for i, e in pending.items() if not e.merged_into}
    for _ in range(MAX_CONFLICT_ROUNDS):
        if not todo:
            return changed
        got = es.mget(index=alias, ids=list(todo))["docs"]
        actions: list[dict[str, Any]] = []
        for doc in got:
            incoming = todo[doc["_id"]]
            if doc.get("found"):
                stored = DefectionEvent.model_validate(doc["_source"])
                merged = combine(stored, incoming)
                if merged == stored:
                    continue  # nothing new (a redelivery): no write
                actions.append({"_op_type": "index", "_index": alias, "_id": doc["_id"],
                                "if_seq_no": doc["_seq_no"], "if_primary_term": doc["_primary_term"],
                                "_source": event_doc(merged)})
            else:
                actions.append({"_op_type": "create", "_index": alias, "_id": doc["_id"],
                                "_source": event_doc(incoming)})
        failed = _bulk(es, actions)
        conflicts = {next(iter(f.values()))["_id"] for f in failed if next(iter(f.values())).get("status") == 409}
        other = [f for f in failed if next(iter(f.values())).get("status") != 409]
        if other:
            raise IndexRefused(f"{len(other)} of {len(actions)} events refused: {str(other[0])[:300]}")
        changed += len(actions) - len(conflicts)
        todo = {i: e for i, e in todo.items() if i in conflicts}  # someone wrote in between: read again
    raise IndexRefused(f"{len(todo)} events still conflicting after {MAX_CONFLICT_ROUNDS} rounds")


def index_reports(es: Elasticsearch, names: Names, reports: Iterable[DefectionEvent]) -> int:
    """Write article reports to their monthly index (same article, same ``_id``: a redelivery overwrites)."""
    actions = [{"_op_type": "index", "_index": names.reports_index(report_month(r)), "_id": report_id(r),
                "_source": report_doc(r)} for r in reports]
    failed = _bulk(es, actions)
    if failed:
        raise IndexRefused(f"{len(failed)} of {len(actions)} reports refused: {str(failed[0])[:300]}")
    return len(actions)


async def until_done(write: Callable[[], int], what: str, log: Callable[[str], None],
                     max_backoff: float = 30.0) -> int:
    """Run ``write`` in a thread, retrying with exponential backoff and jitter for as long as
    Elasticsearch is unreachable or refusing; the caller does not move on (and so does not commit its
    offsets) until the write is done."""
    attempt = 0
    while True:
        try:
            return await asyncio.to_thread(write)
        except (TransportError, ApiError, IndexRefused, ConnectionError) as exc:
            attempt += 1
            delay = min(max_backoff, 0.5 * 2 ** min(attempt, 10)) * random.uniform(0.7, 1.3)
            log(f"elasticsearch: writing {what} failed ({type(exc).__name__}: {str(exc)[:160]}); "
                f"retry {attempt} in {delay:.1f}s")
            await asyncio.sleep(delay)
