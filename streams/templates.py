"""Elasticsearch index templates, versioned indices and aliases.

* Canonical events: index ``<prefix>-events-v<N>`` (one per mapping version) behind the alias
  ``<prefix>-events``; readers and the indexer use the alias only. A mapping change adds a version:
  ``ensure`` creates the new index, copies the documents over and moves the alias in one atomic
  step; the old index is left as it was (delete it when satisfied).
* Raw reports: monthly indices ``<prefix>-reports-v<N>-YYYY.MM`` behind the alias ``<prefix>-reports``
  (added by the template), so old reports age out a month at a time while canonical events stay. On a
  cluster with ILM the template attaches a delete policy; without ILM (the minimal distribution the
  tests run) ``cleanup_reports`` deletes the months past the retention.

Everything here is idempotent: run it at every start.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from elasticsearch import ApiError, Elasticsearch, helpers

SCHEMA_VERSION = 1
"""Bump when a mapping changes incompatibly; ``ensure`` rolls the events forward to the new index."""

_KW = {"type": "keyword", "ignore_above": 512}
_TEXT_KW = {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}}
_SCALED = {"type": "scaled_float", "scaling_factor": 1000}

_DEFECTOR = {"type": "nested", "properties": {
    "name": _TEXT_KW, "rank": _KW, "role": _TEXT_KW, "count": {"type": "integer"}, "rank_code": _KW}}
_SOURCE = {"type": "nested", "properties": {
    "article_id": _KW, "url": _KW, "source": _KW, "title": _TEXT_KW, "published": {"type": "date"},
    "evidence": {"type": "text"}}}

EVENT_PROPERTIES: dict[str, Any] = {
    "event_id": _KW,
    "status": _KW,
    "sector": _KW,
    "defectors": _DEFECTOR,
    "count": {"type": "integer"},
    "from": _KW,
    "to": _KW,
    "joined": _TEXT_KW,
    "date": {"type": "date"},
    "evidence": {"type": "text"},
    "evidence_start": {"type": "integer", "index": False},
    "evidence_end": {"type": "integer", "index": False},
    "confidence": _SCALED,
    "seniority": _SCALED,
    "rank_code": _KW,
    "sources": _SOURCE,
    "corroboration": {"type": "integer"},
    "first_seen": {"type": "date"},
    "last_seen": {"type": "date"},
    "merged_into": _KW,
    # flat fields for dashboards and search (streams/documents.py fills them)
    "day": {"type": "date"},
    "top_rank": _KW,
    "defector_names": _TEXT_KW,
    "outlets": _KW,
    "text_all": {"type": "text"},
    "indexed_at": {"type": "date"},
}

REPORT_PROPERTIES: dict[str, Any] = {
    **EVENT_PROPERTIES,
    "report_id": _KW,
    "article_id": _KW,
    "url": _KW,
    "outlet": _KW,
    "title": _TEXT_KW,
    "published": {"type": "date"},
}


@dataclass(frozen=True, slots=True)
class Names:
    """The index, alias and template names of one deployment (``prefix`` = ``DEFWATCH_ES_PREFIX``)."""

    prefix: str
    version: int = SCHEMA_VERSION

    @property
    def events_alias(self) -> str:
        return f"{self.prefix}-events"

    @property
    def events_index(self) -> str:
        return f"{self.prefix}-events-v{self.version}"

    @property
    def reports_alias(self) -> str:
        return f"{self.prefix}-reports"

    def reports_index(self, month: str) -> str:
        return f"{self.prefix}-reports-v{self.version}-{month}"

    @property
    def reports_pattern(self) -> str:
        return f"{self.prefix}-reports-v{self.version}-*"

    @property
    def ilm_policy(self) -> str:
        return f"{self.prefix}-reports"


@dataclass(slots=True)
class Capabilities:
    """What the cluster supports beyond the core server."""

    scaled_float: bool = True
    ilm: bool = True
    notes: list[str] = field(default_factory=list)


def _mappings(properties: dict[str, Any], caps: Capabilities) -> dict[str, Any]:
    props = copy.deepcopy(properties)
    if not caps.scaled_float:
        for name, spec in props.items():
            if spec.get("type") == "scaled_float":
                props[name] = {"type": "float"}
    return {"dynamic": "false", "properties": props}


def events_template(names: Names, caps: Capabilities) -> dict[str, Any]:
    return {
        "index_patterns": [names.events_index],
        "priority": 200,
        "version": names.version,
        "_meta": {"managed_by": "defwatch", "description": "canonical defection events"},
        "template": {
            "settings": {"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "1s"},
            "mappings": _mappings(EVENT_PROPERTIES, caps),
        },
    }


def reports_template(names: Names, caps: Capabilities) -> dict[str, Any]:
    settings: dict[str, Any] = {"number_of_shards": 1, "number_of_replicas": 0}
    if caps.ilm:
        settings["index.lifecycle.name"] = names.ilm_policy
    return {
        "index_patterns": [names.reports_pattern],
        "priority": 200,
        "version": names.version,
        "_meta": {"managed_by": "defwatch", "description": "one document per article report, monthly"},
        "template": {
            "settings": settings,
            "mappings": _mappings(REPORT_PROPERTIES, caps),
            "aliases": {names.reports_alias: {}},
        },
    }


def _no_handler(exc: ApiError, what: str) -> bool:
    text = f"{exc} {exc.body}"
    return what in text and ("No handler" in text or "no handler" in text or "unknown" in text.lower())


def ensure(es: Elasticsearch, names: Names, retention_days: int = 90,
           log: Callable[[str], None] = lambda _: None) -> Capabilities:
    """Create or update the templates, the lifecycle policy, the events index and its alias (idempotent);
    roll the events forward when ``names.version`` is newer than the index the alias points at."""
    caps = Capabilities()
    try:
        es.ilm.put_lifecycle(name=names.ilm_policy, policy={
            "_meta": {"managed_by": "defwatch"},
            "phases": {"hot": {"actions": {}}, "delete": {"min_age": f"{retention_days}d",
                                                          "actions": {"delete": {}}}}})
    except ApiError as exc:
        if exc.meta.status not in (400, 404, 405, 410):
            raise
        caps.ilm = False
        caps.notes.append("no ILM on this cluster: old report indices are deleted by defwatch's cleanup")
    try:
        es.indices.put_index_template(name=names.events_index, **events_template(names, caps))
    except ApiError as exc:
        if not _no_handler(exc, "scaled_float"):
            raise
        caps.scaled_float = False
        caps.notes.append("no scaled_float on this cluster (mapper-extras module missing): confidence and "
                          "seniority are mapped as float")
        es.indices.put_index_template(name=names.events_index, **events_template(names, caps))
    es.indices.put_index_template(name=f"{names.prefix}-reports-v{names.version}", **reports_template(names, caps))
    for note in caps.notes:
        log(note)
    _ensure_events_index(es, names, log)
    return caps


def _alias_targets(es: Elasticsearch, alias: str) -> list[str]:
    try:
        return sorted(es.indices.get_alias(name=alias).body.keys())
    except ApiError as exc:
        if exc.meta.status == 404:
            return []
        raise


def _ensure_events_index(es: Elasticsearch, names: Names, log: Callable[[str], None]) -> None:
    index, alias = names.events_index, names.events_alias
    if not es.indices.exists(index=index):
        try:
            es.indices.create(index=index)
        except ApiError as exc:
            if "resource_already_exists" not in str(exc):
                raise
    current = _alias_targets(es, alias)
    if current == [index]:
        return
    if not current and es.indices.exists(index=alias):
        raise RuntimeError(f"{alias} is a concrete index, not an alias: move its documents to {index} "
                           f"(or delete it) before starting defwatch")
    older = [i for i in current if i != index and _version_of(i, names) < names.version]
    for old in older:
        log(f"copying events from {old} to {index} (mapping version {names.version})")
        es.indices.refresh(index=old)
        # scan + bulk in the client (the server-side _reindex is a module that minimal clusters lack)
        copied = ({"_op_type": "index", "_index": index, "_id": hit["_id"], "_source": hit["_source"]}
                  for hit in helpers.scan(es, index=old, query={"query": {"match_all": {}}}))
        helpers.bulk(es, copied, chunk_size=500, max_retries=5)
    actions: list[dict[str, Any]] = [{"remove": {"index": i, "alias": alias}} for i in current if i != index]
    actions.append({"add": {"index": index, "alias": alias, "is_write_index": True}})
    es.indices.update_aliases(actions=actions)
    es.indices.refresh(index=index)


def _version_of(index: str, names: Names) -> int:
    m = re.fullmatch(re.escape(names.prefix) + r"-events-v(\d+)", index)
    return int(m.group(1)) if m else 0


def cleanup_reports(es: Elasticsearch, names: Names, retention_days: int, today: dt.date | None = None,
                    log: Callable[[str], None] = lambda _: None) -> list[str]:
    """Delete the monthly report indices whose last day is more than ``retention_days`` ago; canonical
    events are never touched. Returns the deleted index names."""
    today = today or dt.datetime.now(dt.UTC).date()
    try:
        indices = sorted(es.indices.get(index=names.reports_pattern, expand_wildcards="open,closed").body.keys())
    except ApiError as exc:
        if exc.meta.status == 404:
            return []
        raise
    gone = []
    for idx in indices:
        m = re.search(r"-(\d{4})\.(\d{2})$", idx)
        if not m:
            continue
        year, month = int(m.group(1)), int(m.group(2))
        first_of_next = dt.date(year + month // 12, month % 12 + 1, 1)
        if (today - first_of_next).days >= retention_days:
            es.indices.delete(index=idx)
            log(f"deleted {idx} (reports older than {retention_days} days)")
            gone.append(idx)
    return gone
