"""Writing canonical events to Elasticsearch: one document per ``event_id`` (a redelivered event
overwrites its document, never duplicates it), bulk writes with retries and backoff."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterable
from typing import Any

from elasticsearch import Elasticsearch, helpers
from elasticsearch.exceptions import ApiError, TransportError

from extractors import DefectionEvent

EVENTS_MAPPING: dict[str, Any] = {
    "dynamic": True,
    "properties": {
        "event_id": {"type": "keyword"},
        "status": {"type": "keyword"},
        "sector": {"type": "keyword"},
        "from": {"type": "keyword"},
        "to": {"type": "keyword"},
        "joined": {"type": "keyword"},
        "date": {"type": "date"},
        "first_seen": {"type": "date"},
        "last_seen": {"type": "date"},
        "rank_code": {"type": "keyword"},
        "confidence": {"type": "float"},
        "seniority": {"type": "float"},
        "corroboration": {"type": "integer"},
        "count": {"type": "integer"},
        "evidence": {"type": "text"},
        "defectors": {"type": "nested", "properties": {
            "name": {"type": "text", "fields": {"raw": {"type": "keyword"}}},
            "rank": {"type": "keyword"}, "role": {"type": "text"}, "count": {"type": "integer"},
            "rank_code": {"type": "keyword"}}},
        "sources": {"type": "nested", "properties": {
            "article_id": {"type": "keyword"}, "url": {"type": "keyword"}, "source": {"type": "keyword"},
            "title": {"type": "text"}, "published": {"type": "date"}, "evidence": {"type": "text"}}},
    },
}


def connect(url: str, timeout: float = 10.0) -> Elasticsearch:
    return Elasticsearch(url, request_timeout=timeout, max_retries=0, retry_on_timeout=False)


def ensure_index(es: Elasticsearch, index: str) -> None:
    """Create the events index with its mapping if it does not exist (idempotent)."""
    if not es.indices.exists(index=index):
        try:
            es.indices.create(index=index, mappings=EVENTS_MAPPING,
                              settings={"number_of_shards": 1, "number_of_replicas": 0})
        except ApiError as exc:
            if "resource_already_exists" not in str(exc):
                raise


def actions(index: str, events: Iterable[DefectionEvent]) -> list[dict[str, Any]]:
    """Bulk actions: index each event under its id; delete the document of an event joined into another."""
    out: list[dict[str, Any]] = []
    for e in events:
        if e.merged_into:
            out.append({"_op_type": "delete", "_index": index, "_id": e.event_id})
        else:
            out.append({"_op_type": "index", "_index": index, "_id": e.event_id, "_source": e.to_json_dict()})
    return out


def write(es: Elasticsearch, index: str, events: list[DefectionEvent]) -> int:
    """Index the events in one bulk request; raises when any of them was not written (a delete of a
    document that is already gone is fine)."""
    ensure_index(es, index)
    ok, errors = helpers.bulk(es, actions(index, events), raise_on_error=False, refresh=False)
    failed = [e for e in errors if not (isinstance(e, dict) and e.get("delete", {}).get("status") == 404)] \
        if isinstance(errors, list) else []
    if failed:
        raise RuntimeError(f"{len(failed)} of {len(events)} events not indexed: {str(failed[0])[:300]}")
    return int(ok)


async def write_until_done(es: Elasticsearch, index: str, events: list[DefectionEvent],
                           log: Callable[[str], None], max_backoff: float = 30.0) -> int:
    """Write, retrying with exponential backoff and jitter for as long as Elasticsearch is unreachable;
    the caller does not move on (and so does not commit its offsets) until the events are written."""
    attempt = 0
    while True:
        try:
            return await asyncio.to_thread(write, es, index, events)
        except (TransportError, ApiError, RuntimeError, ConnectionError) as exc:
            attempt += 1
            delay = min(max_backoff, 0.5 * 2 ** min(attempt, 10)) * random.uniform(0.7, 1.3)
            log(f"elasticsearch write failed ({type(exc).__name__}: {str(exc)[:160]}); retry {attempt} in {delay:.1f}s")
            await asyncio.sleep(delay)
