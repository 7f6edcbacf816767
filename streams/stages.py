"""The stages as plain functions. The embedded runner and the CLI call them directly; the Faust agents
of the distributed mode call the same functions, so the two modes cannot drift apart."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from extractors import Article, Deduplicator, DefectionEvent, Extractor
from extractors.dedup import with_event_id
from streams.inputs import InputError
from streams.settings import Settings

ALERT_SECTORS = frozenset({"military", "security", "intelligence", "government", "diplomatic"})


@dataclass(frozen=True, slots=True)
class Processed:
    """One article after extraction and de-duplication."""

    article: Article
    reports: list[DefectionEvent]
    """The article's own reports, each carrying the canonical event's id."""
    canonical: list[tuple[DefectionEvent, bool]]
    """The canonical events the reports merged into, and whether each is new."""
    absorbed: list[DefectionEvent]
    """Canonical events that these reports joined into others (``merged_into`` says which)."""


def extract_stage(extractor: Extractor, articles: Iterable[Article]) -> Iterator[tuple[Article, list[DefectionEvent]]]:
    """Articles -> per-article reports (batched through one spaCy pipeline)."""
    yield from extractor.extract_many(articles)


def dedup_stage(dedup: Deduplicator, article: Article, reports: list[DefectionEvent],
                seen: dt.datetime | None = None) -> Processed:
    """Per-article reports -> canonical events (shared ``event_id`` across articles)."""
    seen = seen or dt.datetime.now(dt.UTC)
    out_reports, canon, absorbed = [], [], []
    for r in reports:
        res = dedup.add_report(r, seen)
        out_reports.append(with_event_id(r, res.canonical))
        canon.append((res.canonical, res.is_new))
        absorbed.extend(res.absorbed)
    return Processed(article, out_reports, canon, absorbed)


def is_senior_alert(event: DefectionEvent, settings: Settings) -> bool:
    """A reported defection of a colonel, deputy minister, ambassador or more senior, in a state sector."""
    return (event.status == "reported" and event.sector in ALERT_SECTORS
            and event.seniority >= settings.alert_seniority and event.confidence >= settings.alert_confidence)


def process(extractor: Extractor, dedup: Deduplicator, items: Iterable[Article | InputError]
            ) -> Iterator[Processed | InputError]:
    """Extraction then de-duplication over a mixed stream of articles and input errors. Articles go
    through one extraction stream (so the parser gets full batches even when the pre-filter rejects
    most of them); input errors are passed on as soon as they are read, for the caller to dead-letter."""
    errors: list[InputError] = []

    def articles() -> Iterator[Article]:
        for item in items:
            if isinstance(item, InputError):
                errors.append(item)
            else:
                yield item

    for article, reports in extract_stage(extractor, articles()):
        while errors:
            yield errors.pop(0)
        yield dedup_stage(dedup, article, reports)
    while errors:
        yield errors.pop(0)
