"""Cross-article de-duplication: reports of one real defection share one ``event_id``.

Pure functions over plain data, so the embedded runner (a dict or SQLite) and the Faust stage (a Table
keyed by the entity key) call the same code:

* ``entity_key(report)`` -> the blocking key (a transliteration-folded surname, or origin + top rank for
  unnamed groups); only canonical events under the same key can be the same event.
* ``merge(candidates, report, window)`` -> (updated candidates, canonical event, is_new): finds the
  canonical event the report belongs to (fuzzy name match, or date window + destination + count for
  groups), reconciles its slots and its sources, or starts a new one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Final

from extractors import ranks
from extractors.models import DefectionEvent, Defector

_PARTICLES: Final = frozenset({"al", "el", "bin", "ibn", "abu", "ben", "abd", "van", "von", "de", "da"})
_STATUS_ORDER: Final = {"reported": 2, "denied": 1, "background": 0}


@dataclass(frozen=True, slots=True)
class Window:
    group_days: int = 14
    """Reports of an unnamed group whose days are further apart than this are different events."""
    state_days: int = 30
    """A canonical event that no report has touched for this long (processing time) leaves the state."""


def fold(text: str) -> str:
    """ASCII, lower case, letters only."""
    s = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z ]+", "", s.replace("-", " "))


def surname(name: str) -> str:
    toks = [t for t in fold(name).split() if t not in _PARTICLES]
    return toks[-1] if toks else ""


def skeleton(word: str) -> str:
    """Transliteration-tolerant form: first letter + consonants, doubled letters collapsed
    (Abdelaziz/Abdul-Aziz -> 'bdlz', Shalal/Shallal -> 'shll' -> 'shl')."""
    w = re.sub(r"(.)\1+", r"\1", fold(word).replace(" ", ""))
    if not w:
        return ""
    return w[0] + re.sub(r"[aeiouy]", "", w[1:])


def names_match(a: str, b: str) -> bool:
    sa, sb = surname(a), surname(b)
    if not sa or not sb:
        return False
    if SequenceMatcher(None, sa, sb).ratio() >= 0.8:
        return True
    ka, kb = skeleton(sa), skeleton(sb)
    return len(ka) >= 3 and SequenceMatcher(None, ka, kb).ratio() >= 0.85


def top_rank(ev: DefectionEvent) -> str | None:
    rs = [d.rank for d in ev.defectors if d.rank]
    return max(rs, key=ranks.level) if rs else None


def names(ev: DefectionEvent) -> list[str]:
    return [d.name for d in ev.defectors if d.name]


def entity_key(ev: DefectionEvent) -> str:
    """The blocking key of a report."""
    ns = names(ev)
    if ns:
        return "name:" + skeleton(surname(ns[0]))[:3]
    return f"group:{fold(ev.from_ or '-')}:{top_rank(ev) or '-'}"


def _ref_day(ev: DefectionEvent) -> dt.date | None:
    if ev.date:
        return ev.date
    days = [s.published for s in ev.sources if s.published]
    return min(days) if days else None


def _count_bucket(n: int | None) -> int:
    if n is None:
        return -1
    return 0 if n <= 1 else 1 if n <= 5 else 2 if n <= 20 else 3 if n <= 100 else 4


def same_event(a: DefectionEvent, b: DefectionEvent, window: Window = Window()) -> bool:
    an, bn = names(a), names(b)
    if an or bn:
        if not (an and bn):
            return False
        if not any(names_match(x, y) for x in an for y in bn):
            return False
        return not (a.from_ and b.from_ and fold(a.from_) != fold(b.from_))
    if top_rank(a) != top_rank(b) or fold(a.from_ or "") != fold(b.from_ or ""):
        return False
    if a.to and b.to and a.to != b.to:
        return False
    da, db = _ref_day(a), _ref_day(b)
    if da and db:
        if a.date and b.date:
            return abs((da - db).days) <= min(2, window.group_days)
        if abs((da - db).days) > min(3, window.group_days):
            return False
    elif (da is None) != (db is None):
        return _count_bucket(a.count) == _count_bucket(b.count)
    return True


def event_id_for(ev: DefectionEvent) -> str:
    src = ev.sources[0].article_id if ev.sources else ""
    basis = f"{entity_key(ev)}|{src}|{ev.evidence_start}|{ev.evidence[:80]}"
    return "ev-" + hashlib.sha1(basis.encode()).hexdigest()[:16]


def _expired(ev: DefectionEvent, now: dt.datetime, window: Window) -> bool:
    """Evicted by processing time, so a backfill of old articles in any order keeps its state."""
    return ev.last_seen is not None and (now - ev.last_seen).days > window.state_days


def reconcile(canon: DefectionEvent, report: DefectionEvent, seen: dt.datetime) -> DefectionEvent:
    """The canonical event with ``report`` folded in: every source kept, the most specific rank, the most
    corroborated count, the strongest status."""
    sources = list(canon.sources)
    known = {s.article_id for s in sources}
    sources.extend(s for s in report.sources if s.article_id not in known)
    defectors = [d.model_copy() for d in canon.defectors]
    for d in report.defectors:
        match = next((x for x in defectors if (x.name and d.name and names_match(x.name, d.name))
                      or (not x.name and not d.name and x.rank == d.rank)), None)
        if match is None:
            if not any(x.name for x in defectors) or d.name:
                defectors.append(d.model_copy())
            continue
        if ranks.level(d.rank) > ranks.level(match.rank) or (match.rank in ranks.VAGUE_RANKS and d.rank
                                                             and d.rank not in ranks.VAGUE_RANKS):
            match.rank, match.rank_code = d.rank, d.rank_code
        if d.name and len(d.name) > len(match.name or ""):
            match.name = d.name
        match.role = match.role or d.role
    counts = Counter([canon.count] * max(1, canon.corroboration) + [report.count])
    counts.pop(None, None)
    count = counts.most_common(1)[0][0] if counts else None
    top = max((d.rank for d in defectors if d.rank), key=ranks.level, default=None)
    status = canon.status if _STATUS_ORDER[canon.status] >= _STATUS_ORDER[report.status] else report.status
    return canon.model_copy(update={
        "sources": sources,
        "corroboration": len({s.article_id for s in sources}),
        "defectors": defectors,
        "count": count,
        "status": status,
        "to": canon.to or report.to,
        "from_": canon.from_ or report.from_,
        "joined": canon.joined or report.joined,
        "date": canon.date or report.date,
        "confidence": round(min(0.99, max(canon.confidence, report.confidence) + 0.05), 2),
        "seniority": max(canon.seniority, report.seniority),
        "rank_code": ranks.code(top),
        "last_seen": seen,
    })


def merge(
    candidates: list[DefectionEvent],
    report: DefectionEvent,
    seen: dt.datetime,
    window: Window = Window(),
) -> tuple[list[DefectionEvent], DefectionEvent, bool, list[DefectionEvent]]:
    """Fold one report into the canonical events stored under its entity key.

    Returns the new candidate list (expired events dropped), the canonical event the report now belongs
    to, whether that event is new, and the canonical events it absorbed: a report that matches several
    canonical events joins them into one (the oldest id survives), so the outcome does not depend on
    the order reports arrive in. A report already folded in (same article) changes nothing but its
    last-seen time, so redelivery is harmless."""
    live = [c for c in candidates if not _expired(c, seen, window)]
    hits = [i for i, c in enumerate(live) if same_event(c, report, window)]
    if not hits:
        new = report.model_copy(update={"first_seen": seen, "last_seen": seen, "corroboration": 1})
        new = new.model_copy(update={"event_id": event_id_for(new)})
        live.append(new)
        return live, new, True, []
    ordered = sorted(hits, key=lambda i: (live[i].first_seen or seen, live[i].event_id))
    keep = ordered[0]
    merged = reconcile(live[keep], report, seen)
    absorbed = []
    for i in ordered[1:]:
        other = live[i]
        for src in other.sources:
            part = other.model_copy(update={"sources": [src]})
            merged = reconcile(merged, part, seen)
        absorbed.append(other.model_copy(update={"merged_into": merged.event_id, "last_seen": seen}))
    gone = set(ordered[1:])
    live = [merged if i == keep else c for i, c in enumerate(live) if i not in gone]
    return live, merged, False, absorbed


@dataclass(frozen=True, slots=True)
class MergeResult:
    canonical: DefectionEvent
    is_new: bool
    absorbed: list[DefectionEvent]


class Deduplicator:
    """In-memory state for one process (the embedded runner and the CLI); the Faust stage keeps the same
    lists in a changelog-backed Table instead."""

    def __init__(self, window: Window = Window()) -> None:
        self.window = window
        self.state: dict[str, list[DefectionEvent]] = {}
        self.redirects: dict[str, str] = {}

    def add(self, report: DefectionEvent, seen: dt.datetime) -> tuple[DefectionEvent, bool]:
        result = self.add_report(report, seen)
        return result.canonical, result.is_new

    def add_report(self, report: DefectionEvent, seen: dt.datetime) -> MergeResult:
        key = entity_key(report)
        live, canon, is_new, absorbed = merge(self.state.get(key, []), report, seen, self.window)
        self.state[key] = live
        for gone in absorbed:
            self.redirects[gone.event_id] = canon.event_id
        return MergeResult(canon, is_new, absorbed)

    def resolve(self, event_id: str) -> str:
        """The id an event goes by now (events joined by a later report redirect to the survivor)."""
        seen = set()
        while event_id in self.redirects and event_id not in seen:
            seen.add(event_id)
            event_id = self.redirects[event_id]
        return event_id

    def canonical(self) -> list[DefectionEvent]:
        return [e for evs in self.state.values() for e in evs]


def combine(stored: DefectionEvent | None, incoming: DefectionEvent) -> DefectionEvent:
    """Two versions of one canonical event (same ``event_id``) as one: the union of their sources (so a
    redelivered or out-of-order version never loses a source nor counts one twice), the earliest
    first-seen and latest last-seen; the other slots come from the more recent version. Commutative and
    idempotent, which is what a read-modify-write upsert needs."""
    if stored is None:
        return incoming
    oldest = dt.datetime.min.replace(tzinfo=dt.UTC)

    def seen(e: DefectionEvent) -> dt.datetime:
        t = e.last_seen or oldest
        return t if t.tzinfo else t.replace(tzinfo=dt.UTC)

    def order(e: DefectionEvent) -> tuple[dt.datetime, int, str]:
        return seen(e), e.corroboration, e.model_dump_json()  # the last part only breaks exact ties

    newer, older = (incoming, stored) if order(incoming) >= order(stored) else (stored, incoming)
    known = {s.article_id for s in newer.sources}
    sources = list(newer.sources) + [s for s in older.sources if s.article_id not in known]
    firsts = [t for t in (stored.first_seen, incoming.first_seen) if t]
    lasts = [t for t in (stored.last_seen, incoming.last_seen) if t]
    return newer.model_copy(update={
        "sources": sources,
        "corroboration": len({s.article_id for s in sources}),
        "first_seen": min(firsts) if firsts else None,
        "last_seen": max(lasts) if lasts else None,
        "confidence": max(stored.confidence, incoming.confidence),
        "seniority": max(stored.seniority, incoming.seniority),
    })


def with_event_id(report: DefectionEvent, canon: DefectionEvent) -> DefectionEvent:
    """The article's own report, labelled with the canonical event's id and corroboration."""
    return report.model_copy(update={"event_id": canon.event_id, "corroboration": canon.corroboration})


__all__ = ["Deduplicator", "Defector", "Window", "combine", "entity_key", "merge", "same_event", "with_event_id"]
