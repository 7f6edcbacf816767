"""``defwatch search``: one query model, two back ends with the same meaning.

* embedded mode: the SQLite store, filtered here with ``matches``;
* distributed mode: Elasticsearch, with the query ``es_query`` builds.

Free text matches whole words in ``streams.documents.searchable_text`` (names, ranks, roles,
countries, the side joined, the evidence, headlines, outlets), every word required, case ignored; the
events index stores that same text in ``text_all``. Dates filter on the day an event is filed under
(``streams.documents.day_of``: the defection's date, else the day first seen). Results come newest
activity first.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from elasticsearch import Elasticsearch
from pydantic import BaseModel, Field, field_validator

from extractors import DefectionEvent, ranks
from extractors.countries import country_of
from extractors.models import Status
from streams.documents import day_of, searchable_text, words
from streams.store import Store


class SearchQuery(BaseModel):
    text: str = Field(default="", max_length=500)
    since: dt.date | None = None
    until: dt.date | None = None
    country: str | None = Field(default=None, max_length=100)
    """Origin or destination: a country name or demonym ("Syria", "Syrian")."""
    min_seniority: float = Field(default=0.0, ge=0.0, le=1.0)
    status: Status | None = None
    limit: int = Field(default=20, ge=1, le=1000)

    @field_validator("country")
    @classmethod
    def _canonical_country(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return country_of(value) or value.strip()

    @property
    def terms(self) -> list[str]:
        return [] if self.text.strip() in ("", "*") else words(self.text)


def seniority_arg(value: str) -> float:
    """``--min-seniority``: a number from 0 to 1, or a rank or title ("colonel", "deputy minister")."""
    try:
        x = float(value)
    except ValueError:
        rank = ranks.rank_of(value)
        if rank is None:
            raise ValueError(f"{value!r} is neither a number from 0 to 1 nor a rank or title") from None
        return ranks.seniority(rank)
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"{value!r}: seniority runs from 0 to 1")
    return x


def matches(event: DefectionEvent, q: SearchQuery) -> bool:
    if event.merged_into:
        return False
    if q.status and event.status != q.status:
        return False
    if event.seniority < q.min_seniority:
        return False
    if q.country:
        want = q.country.lower()
        if (event.from_ or "").lower() != want and (event.to or "").lower() != want:
            return False
    if q.since or q.until:
        day = day_of(event)
        if day is None or (q.since and day < q.since) or (q.until and day > q.until):
            return False
    if q.terms:
        have = set(words(searchable_text(event)))
        if not all(t in have for t in q.terms):
            return False
    return True


def _order(e: DefectionEvent) -> tuple[float, str]:
    return (-(e.last_seen.timestamp() if e.last_seen else 0.0), e.event_id)


def search_store(store: Store, q: SearchQuery) -> list[DefectionEvent]:
    return sorted((e for e in store.events() if matches(e, q)), key=_order)[: q.limit]


def es_query(q: SearchQuery) -> dict[str, Any]:
    """The Elasticsearch bool query with the meaning of ``matches``."""
    must: list[dict[str, Any]] = []
    filters: list[dict[str, Any]] = []
    if q.terms:
        must.append({"match": {"text_all": {"query": " ".join(q.terms), "operator": "and"}}})
    if q.status:
        filters.append({"term": {"status": q.status}})
    if q.min_seniority > 0:
        filters.append({"range": {"seniority": {"gte": q.min_seniority}}})
    if q.country:
        filters.append({"bool": {"minimum_should_match": 1, "should": [
            {"term": {"from": {"value": q.country, "case_insensitive": True}}},
            {"term": {"to": {"value": q.country, "case_insensitive": True}}}]}})
    if q.since or q.until:
        rng: dict[str, str] = {}
        if q.since:
            rng["gte"] = q.since.isoformat()
        if q.until:
            rng["lte"] = q.until.isoformat()
        filters.append({"range": {"day": rng}})
    return {"bool": {"must": must or [{"match_all": {}}], "filter": filters,
                     "must_not": [{"exists": {"field": "merged_into"}}]}}


def search_es(es: Elasticsearch, alias: str, q: SearchQuery) -> list[DefectionEvent]:
    res = es.search(index=alias, query=es_query(q), size=q.limit,
                    sort=[{"last_seen": {"order": "desc", "missing": "_last"}}, {"event_id": "asc"}])
    return [DefectionEvent.model_validate(h["_source"]) for h in res["hits"]["hits"]]
