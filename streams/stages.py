"""The stages as plain functions. The embedded runner and the CLI call them directly; the Faust agents
of the distributed mode call the same functions, so the two modes cannot drift apart."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from extractors import Article, Deduplicator, DefectionEvent, Extractor, Source
from extractors.dedup import with_event_id
from streams.inputs import InputError
from streams.metrics import Metrics


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


def extract_stage(extractor: Extractor, articles: Iterable[Article]
                  ) -> Iterator[tuple[Article, list[DefectionEvent], bool]]:
    """Articles -> per-article reports (batched through one spaCy pipeline), and whether each article
    passed the pre-filter."""
    yield from extractor.extract_gated(articles)


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


def copy_reports(original: list[DefectionEvent], copy: Article) -> list[DefectionEvent]:
    """A wire copy's reports: the first copy's reports with the copy as their source (not extracted
    again); de-duplication then merges them into the same events, one more outlet each."""
    out = []
    for r in original:
        src = Source(article_id=copy.id, url=copy.url, source=copy.source, title=copy.title or None,
                     published=copy.published, evidence=r.evidence)
        out.append(r.model_copy(update={"event_id": "", "sources": [src], "corroboration": 1, "first_seen": None,
                                        "last_seen": None, "merged_into": None}))
    return out


def observe_extraction(metrics: Metrics, reports: list[DefectionEvent], passed: bool) -> None:
    """Count one article's pre-filter result and reports."""
    metrics.prefilter.labels(result="pass" if passed else "drop").inc()
    for r in reports:
        metrics.reports.labels(status=r.status, sector=r.sector).inc()
    metrics.touch("extract")


def observe_dedup(metrics: Metrics, canonical: list[tuple[DefectionEvent, bool]]) -> None:
    for canon, is_new in canonical:
        metrics.events.labels(kind="new" if is_new else "merged", status=canon.status, sector=canon.sector).inc()
        if not is_new:
            metrics.dedup_merges.inc()
    metrics.touch("dedup")


def process(extractor: Extractor, dedup: Deduplicator, items: Iterable[Article | InputError],
            metrics: Metrics | None = None) -> Iterator[Processed | InputError]:
    """Extraction then de-duplication over a mixed stream of articles and input errors. Articles go
    through one extraction stream (so the parser gets full batches even when the pre-filter rejects
    most of them); input errors are passed on as soon as they are read, for the caller to dead-letter."""
    errors: list[InputError] = []
    last = time.perf_counter()

    def articles() -> Iterator[Article]:
        for item in items:
            if isinstance(item, InputError):
                errors.append(item)
            else:
                yield item

    for article, reports, passed in extract_stage(extractor, articles()):
        if metrics is not None:
            now = time.perf_counter()
            metrics.extraction.observe(now - last)  # this article's share of its batch
            observe_extraction(metrics, reports, passed)
        while errors:
            yield errors.pop(0)
        done = dedup_stage(dedup, article, reports)
        if metrics is not None:
            observe_dedup(metrics, done.canonical)
        yield done
        last = time.perf_counter()
    while errors:
        yield errors.pop(0)
