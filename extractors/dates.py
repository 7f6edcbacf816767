"""Resolve the time expressions of a news sentence against the article's publication date."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Final

WEEKDAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS: Final = {
    m: i + 1
    for i, names in enumerate(
        [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
         ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
         ("october", "oct"), ("november", "nov"), ("december", "dec")]
    )
    for m in names
}
_NUM_WORDS: Final = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                     "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "few": 3,
                     "several": 3, "couple of": 2}


@dataclass(frozen=True, slots=True)
class When:
    """A resolved time: the day when known, and how many days before publication (approximate)."""

    date: dt.date | None
    age_days: float | None
    explicit_year: int | None = None


_MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
_RX_FULL_DATE: Final = re.compile(
    rf"\b(?:(?P<d1>\d{{1,2}})(?:st|nd|rd|th)? (?P<m1>{_MONTH_NAMES})\.?|(?P<m2>{_MONTH_NAMES})\.? (?P<d2>\d{{1,2}})"
    rf"(?:st|nd|rd|th)?)(?:,? (?P<y>(?:19|20)\d\d))?\b",
    re.I,
)
_RX_MONTH_ONLY: Final = re.compile(
    rf"\b(?:in|since|during|early|late|mid|until) (?:early |late |mid[- ])?(?P<m>{_MONTH_NAMES})\b(?:,? "
    rf"(?P<y>(?:19|20)\d\d))?",
    re.I,
)
_RX_YEAR: Final = re.compile(r"\b(?:in|since|of|during|back in) (?P<y>(?:19|20)\d\d)\b")
_RX_AGO: Final = re.compile(
    r"\b(?P<n>\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|few|several|couple of)"
    r" (?P<u>day|days|week|weeks|month|months|year|years) ago\b",
    re.I,
)
_RX_WEEKDAY: Final = re.compile(
    r"\b(?P<last>last |this past |past |previous )?(?:(?:late|early) (?:on )?)?(?P<wd>"
    + "|".join(WEEKDAYS)
    + r")(?:'s)?\b",
    re.I,
)
_RELATIVE: Final[list[tuple[re.Pattern[str], float, bool]]] = [
    # (pattern, age in days, whether the day itself is known)
    (re.compile(r"\b(?:today|tonight|this (?:morning|afternoon|evening|week)|earlier today|hours? ago"
                r"|on the same day|overnight|late last night|last night|just now)\b", re.I), 0, True),
    (re.compile(r"\byesterday\b", re.I), 1, True),
    (re.compile(r"\b(?:last|this past|past) weekend\b", re.I), 5, False),
    (re.compile(r"\b(?:last week|earlier this week|a week ago)\b", re.I), 7, False),
    (re.compile(r"\b(?:in recent weeks|(?:over|in) the (?:past|last) (?:few|two|three|several) weeks"
                r"|earlier this month|two weeks ago)\b", re.I), 14, False),
    (re.compile(r"\b(?:last month|a month ago|in recent months)\b", re.I), 30, False),
    (re.compile(r"\b(?:last year|a year ago|years ago|in recent years|earlier this year)\b", re.I), 365, False),
    (re.compile(r"\b(?:decades ago|a decade ago|during the cold war)\b", re.I), 3650, False),
    # Cumulative statements ("since the start of the war, dozens of officers have defected") are context.
    (re.compile(r"\bsince the (?:start|beginning|outbreak|onset) of\b|\bso far this year\b|\bto date\b", re.I),
     180, False),
]
_UNIT_DAYS: Final = {"day": 1, "week": 7, "month": 30, "year": 365}


_POSSESSIVE_TIME: Final = re.compile(r"^(?:'s|\u2019s)\s+(?P<words>(?:[\w-]+\s+){0,2}[\w-]+)")


def _modifies_other_noun(text: str, end: int) -> bool:
    """"last month's coup": a time that dates another noun, not the clause (but "this morning's
    defection" dates the defection)."""
    m = _POSSESSIVE_TIME.match(text[end:])
    if m is None:
        return False
    return not any(w.lower().startswith(("defect", "desert", "resign", "escape", "flight"))
                   for w in m.group("words").split())


def _weekday_before(published: dt.date, weekday: int, strictly: bool) -> dt.date:
    delta = (published.weekday() - weekday) % 7
    if delta == 0 and strictly:
        delta = 7
    return published - dt.timedelta(days=delta)


def resolve(text: str, published: dt.date | None, near: int | None = None) -> When | None:
    """The time expression of ``text`` (a clause or sentence): the most explicit one, or with ``near`` (a
    character position) the one closest to it. None when there is none."""
    # (priority, position, resolution): an explicit date beats a weekday beats "N days ago" beats
    # vaguer phrases ("overnight Wednesday" is the Wednesday).
    candidates: list[tuple[int, int, When]] = []
    for m in _RX_FULL_DATE.finditer(text):
        month = MONTHS[(m.group("m1") or m.group("m2")).lower().rstrip(".")]
        day = int(m.group("d1") or m.group("d2"))
        year_s = m.group("y")
        year = int(year_s) if year_s else (published.year if published else None)
        if year is None or not 1 <= day <= 31:
            continue
        try:
            d = dt.date(year, month, day)
        except ValueError:
            continue
        last_year = not year_s and text[m.end() : m.end() + 12].lower().strip().startswith("last year")
        if published and not year_s and (last_year or d > published + dt.timedelta(days=1)):
            d = d.replace(year=year - 1)
        age = float((published - d).days) if published else None
        candidates.append((0, m.start(), When(d, age, int(year_s) if year_s else None)))
    for m in _RX_WEEKDAY.finditer(text):
        if published is None:
            candidates.append((1, m.start(), When(None, None)))
            continue
        wd = WEEKDAYS.index(m.group("wd").lower())
        d = _weekday_before(published, wd, strictly=bool(m.group("last")))
        candidates.append((1, m.start(), When(d, float((published - d).days))))
    for m in _RX_AGO.finditer(text):
        n_s = m.group("n").lower()
        n = int(n_s) if n_s.isdigit() else _NUM_WORDS.get(n_s, 1)
        days = n * _UNIT_DAYS[m.group("u").lower().rstrip("s")]
        ago = published - dt.timedelta(days=days) if published and m.group("u").lower().startswith("day") else None
        candidates.append((2, m.start(), When(ago, float(days))))
    for rx, age, exact in _RELATIVE:
        for m in rx.finditer(text):
            if _modifies_other_noun(text, m.end()):
                continue
            rel = published - dt.timedelta(days=int(age)) if (published and exact) else None
            candidates.append((3, m.start(), When(rel, age)))
    for m in _RX_MONTH_ONLY.finditer(text):
        month = MONTHS[m.group("m").lower()]
        year_s = m.group("y")
        if published is None:
            candidates.append((4, m.start(), When(None, None, int(year_s) if year_s else None)))
            continue
        year = int(year_s) if year_s else (published.year if month <= published.month else published.year - 1)
        months_back = (published.year - year) * 12 + published.month - month
        candidates.append((4, m.start(), When(None, months_back * 30.0 + 15, int(year_s) if year_s else None)))
    for m in _RX_YEAR.finditer(text):
        y = int(m.group("y"))
        age = (published.year - y) * 365.0 if published else None
        if published and y == published.year:
            continue
        candidates.append((5, m.start(), When(None, age, y)))
    if not candidates:
        return None
    if near is not None:
        candidates.sort(key=lambda c: (abs(c[1] - near), c[0]))
    else:
        candidates.sort(key=lambda c: (c[0], c[1]))
    return candidates[0][2]
