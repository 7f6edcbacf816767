"""How an event looks in a search index: the event's own fields (FORMAT.md names) plus the flat fields a
dashboard aggregates on (Kibana cannot aggregate inside nested objects) and one text field that the
free-text search of both modes matches against, built here once so both modes match the same words."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any

from extractors import DefectionEvent
from extractors.dedup import entity_key, top_rank

_WORD = re.compile(r"\w+", re.UNICODE)


def day_of(event: DefectionEvent) -> dt.date | None:
    """The day an event is filed under: the defection's date when the reports give one, else the day
    defwatch first saw it, else the earliest publication day of its sources."""
    if event.date:
        return event.date
    if event.first_seen:
        return event.first_seen.date()
    days = [s.published for s in event.sources if s.published]
    return min(days) if days else None


def searchable_text(event: DefectionEvent) -> str:
    """Every word a free-text search should find the event by: names, ranks, roles, countries, the side
    joined, the evidence sentence, and the headlines and outlets of its sources."""
    parts: list[str] = []
    for d in event.defectors:
        parts += [d.name or "", d.rank or "", d.role or ""]
    parts += [event.from_ or "", event.to or "", event.joined or "", event.sector, event.evidence]
    for s in event.sources:
        parts += [s.title or "", s.source or ""]
    return " ".join(p for p in parts if p)


def words(text: str) -> list[str]:
    """Lower-cased words, the way Elasticsearch's standard analyzer splits them (near enough for
    letters and digits, which is all a query here is made of)."""
    return [w.lower() for w in _WORD.findall(text)]


def event_doc(event: DefectionEvent) -> dict[str, Any]:
    """The document of a canonical event (``_id`` = ``event_id``)."""
    doc = event.to_json_dict()
    day = day_of(event)
    doc.update({
        "day": day.isoformat() if day else None,
        "top_rank": top_rank(event),
        "defector_names": [d.name for d in event.defectors if d.name],
        "outlets": sorted({s.source for s in event.sources if s.source}),
        "text_all": searchable_text(event),
        "indexed_at": dt.datetime.now(dt.UTC).isoformat(),
    })
    return doc


def report_id(report: DefectionEvent) -> str:
    """A stable id for one article's report of one event: the same article read twice gives the same id."""
    src = report.sources[0].article_id if report.sources else ""
    basis = f"{src}|{report.evidence_start}|{entity_key(report)}|{report.evidence[:80]}"
    return "rp-" + hashlib.sha1(basis.encode()).hexdigest()[:16]


def report_doc(report: DefectionEvent) -> dict[str, Any]:
    """The document of one article's report (its own reading of the event, linked by ``event_id``)."""
    doc = event_doc(report)
    src = report.sources[0] if report.sources else None
    doc.update({
        "report_id": report_id(report),
        "article_id": src.article_id if src else None,
        "url": src.url if src else None,
        "outlet": src.source if src else None,
        "title": src.title if src else None,
        "published": src.published.isoformat() if src and src.published else None,
    })
    return doc


def report_month(report: DefectionEvent) -> str:
    """The month whose reports index holds a report: its article's publication month (stable under
    redelivery), else the month it was first seen, else this month."""
    src = report.sources[0] if report.sources else None
    when = (src.published if src and src.published else None) or (
        report.first_seen.date() if report.first_seen else dt.datetime.now(dt.UTC).date())
    return f"{when.year:04d}.{when.month:02d}"
