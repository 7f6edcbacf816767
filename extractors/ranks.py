"""The rank and title lexicon: surface forms -> canonical rank, NATO/civil code, seniority, sector.

Canonical ranks are the vocabulary of FORMAT.md. Matching works on a normalised, lower-cased
phrase in which abbreviations (Brig. Gen., Lt. Col., Adm. ...) have been expanded, longest first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from extractors.models import Sector


@dataclass(frozen=True, slots=True)
class RankInfo:
    rank: str
    code: str
    level: float
    sector: Sector


_R = RankInfo
RANKS: Final[dict[str, RankInfo]] = {
    r.rank: r
    for r in (
        _R("field marshal", "OF-10", 10, "military"),
        _R("general", "OF-9", 9, "military"),
        _R("lieutenant general", "OF-8", 8, "military"),
        _R("major general", "OF-7", 7, "military"),
        _R("brigadier general", "OF-6", 6, "military"),
        _R("colonel", "OF-5", 5, "military"),
        _R("senior officer", "OF-5", 5, "military"),
        _R("lieutenant colonel", "OF-4", 4, "military"),
        _R("major", "OF-3", 3, "military"),
        _R("captain", "OF-2", 2, "military"),
        _R("officer", "OF", 1.5, "military"),
        _R("pilot", "OF", 1.5, "military"),
        _R("lieutenant", "OF-1", 1, "military"),
        _R("warrant officer", "WO", 0.5, "military"),
        _R("sergeant", "OR-5", 0.3, "military"),
        _R("soldier", "OR-2", 0.1, "military"),
        _R("head of state", "CIV-1", 10, "government"),
        _R("vice president", "CIV-2", 9, "government"),
        _R("prime minister", "CIV-2", 9, "government"),
        _R("minister", "CIV-3", 8, "government"),
        _R("deputy minister", "CIV-4", 6, "government"),
        _R("ambassador", "CIV-4", 6, "diplomatic"),
        _R("governor", "CIV-4", 6, "government"),
        _R("judge", "CIV-5", 5, "government"),
        _R("member of parliament", "CIV-5", 5, "government"),
        _R("spokesperson", "CIV-6", 4, "government"),
        _R("diplomat", "CIV-7", 3, "diplomatic"),
        _R("official", "CIV-7", 3, "government"),
        _R("intelligence officer", "INT", 3, "intelligence"),
        _R("police officer", "SEC", 1, "security"),
        _R("other", "OTH", 1, "other"),
    )
}

# Abbreviations expanded before matching (applied to lower-cased text with hyphens as spaces).
_ABBREVIATIONS: Final[list[tuple[str, str]]] = [
    (r"\bbrig\b\.?", "brigadier"),
    (r"\bgens?\b\.?", "general"),
    (r"\blt\b\.?", "lieutenant"),
    (r"\blieut\b\.?", "lieutenant"),
    (r"\bcol\b\.?", "colonel"),
    (r"\bmaj\b\.?", "major"),
    (r"\bcapt\b\.?", "captain"),
    (r"\bcpt\b\.?", "captain"),
    (r"\badm\b\.?", "admiral"),
    (r"\bsgt\b\.?", "sergeant"),
    (r"\bcmdr\b\.?", "commander"),
    (r"\bamb\b\.?", "ambassador"),
    (r"\bmps\b", "members of parliament"),
    (r"\bmp\b", "member of parliament"),
    (r"\bmeps?\b", "member of parliament"),
]

# (pattern over the normalised phrase, canonical rank). Order matters: longest and most specific first.
_PATTERNS: Final[list[tuple[str, str]]] = [
    (r"(?:heads?|chiefs?|commanders?|directors?) of (?:the )?(?:[a-z']+ ){0,3}(?:police|army|forces|intelligence|"
     r"guard|guards|division|brigade|battalion|regiment|air force|navy|staff)", "senior officer"),
    (r"field marshals?", "field marshal"),
    (r"(?:lieutenant|vice) generals?", "lieutenant general"),
    (r"vice admirals?", "lieutenant general"),
    (r"major generals?", "major general"),
    (r"rear admirals?", "major general"),
    (r"brigadier generals?|brigadiers?|commodores?|air commodores?", "brigadier general"),
    (r"lieutenant colonels?|wing commanders?", "lieutenant colonel"),
    (r"(?:full )?colonels?|group captains?", "colonel"),
    (r"(?:senior|first|second|junior) lieutenants?|lieutenants?|ensigns?", "lieutenant"),
    (r"warrant officers?", "warrant officer"),
    (r"(?:staff |master |first )?sergeants?|corporals?|lance corporals?", "sergeant"),
    (r"(?:four star |three star |two star |one star |army |air force |military )?admirals?", "general"),
    (r"attorneys? generals?|procurators? generals?|prosecutors? generals?", "judge"),
    (r"(?:secretary|solicitor|inspector|auditor|director|postmaster|surgeon) generals?"
     r"|generals? (?:election|elections|public|assembly|secretary|strike|manager|counsel|hospital|motors|electric)"
     r"|in general|generally", "__skip__"),
    (r"(?:four star |three star |two star |one star |army |air force |military )?generals?", "general"),
    (r"majors?", "major"),
    (r"captains?", "captain"),
    (r"(?:vice|deputy) presidents?", "vice president"),
    (r"(?:former )?(?:prime minister|premier)s?", "prime minister"),
    (r"deputy (?:[a-z]+ ){0,2}ministers?|vice ministers?|(?:deputy|assistant|under) secretar(?:y|ies)"
     r"|(?:deputy|vice) minister of [a-z ]+", "deputy minister"),
    (r"(?:[a-z]+ ){0,2}ministers?|ministers? of [a-z ]+|secretar(?:y|ies) of state"
     r"|(?:defen[cs]e|foreign|interior|finance|oil) secretar(?:y|ies)", "minister"),
    (r"presidents?|heads? of state|kings?|emirs?|sultans?|dictators?", "head of state"),
    (r"ambassadors?|envoys?|charg[eé]s? d.affaires|high commissioners?", "ambassador"),
    (r"diplomats?|consuls?(?: general)?|counsell?ors?|(?:first|second|third) secretar(?:y|ies)"
     r"|attach[eé]s?|diplomatic (?:staff|officials?)", "diplomat"),
    (r"spokes(?:man|men|woman|women|persons?|people)|press secretar(?:y|ies)", "spokesperson"),
    (r"members? of parliament|lawmakers?|legislators?|parliamentarians?|congress(?:man|men|woman|women)"
     r"|senators?|deputies|assembly ?(?:man|men|members?)|councillors?", "member of parliament"),
    (r"governors?", "governor"),
    (r"judges?|prosecutors?|attorney generals?|magistrates?", "judge"),
    (r"intelligence (?:officers?|officials?|agents?|operatives?|chiefs?)|spies|spy|agents?", "intelligence officer"),
    (r"police(?: ?(?:officers?|personnel|men|man|women|woman|chiefs?|commanders?|officials?))?|policem[ae]n"
     r"|police ?wom[ae]n|constables?|gendarmes?|border guards?|security (?:officers?|personnel|forces)",
     "police officer"),
    (r"(?:senior|high ranking|top ranking|top rank|high level|top|ranking|senior military|senior army)"
     r" (?:[a-z]+ ){0,2}officers?", "senior officer"),
    (r"(?:[a-z]+ )?pilots?|aviators?|airm[ae]n", "pilot"),
    (r"officers?|commanders?|commandants?", "officer"),
    (r"soldiers?|troops?|servicem[ae]n|conscripts?|privates?|recruits?|marines?|sailors?|guardsm[ae]n"
     r"|fighters?|militiam[ae]n|personnel|army deserters?|deserters?|seam[ae]n|paratroopers?|mercenar(?:y|ies)"
     r"|(?:tank |helicopter |aircraft )?crews?|crewm[ae]n|platoons?|squads?",
     "soldier"),
    (r"officials?|bureaucrats?|civil servants?|administrators?|mayors?|directors?|chiefs?", "official"),
    (r"journalists?|presenters?|reporters?|anchors?|broadcasters?|editors?|athletes?|players?|footballers?"
     r"|infielders?|outfielders?|pitchers?|boxers?|wrestlers?|swimmers?|gymnasts?|artists?|musicians?"
     r"|singers?|actors?|actress(?:es)?|dancers?|scientists?|engineers?|students?|workers?|doctors?",
     "other"),
]

_ABBREV_RES: Final = [(re.compile(p), r) for p, r in _ABBREVIATIONS]
_PATTERN_RES: Final = [(re.compile(rf"\b(?:{p})\b"), r) for p, r in _PATTERNS]


def normalise_phrase(text: str) -> str:
    """Lower-case, hyphens and apostrophes to spaces, abbreviations expanded."""
    s = text.lower().replace("\u2011", " ").replace("-", " ").replace("\u2019", "'")
    for rx, repl in _ABBREV_RES:
        s = rx.sub(repl, s)
    return re.sub(r"\s+", " ", s).strip()


@dataclass(frozen=True, slots=True)
class RankHit:
    rank: str
    start: int
    end: int
    surface: str


def find_ranks(text: str) -> list[RankHit]:
    """Every rank or title in ``text`` (already normalised), leftmost-longest, non-overlapping."""
    hits: list[RankHit] = []
    taken: list[tuple[int, int]] = []
    for rx, rank in _PATTERN_RES:
        for m in rx.finditer(text):
            a, b = m.span()
            if any(a < y and x < b for x, y in taken):
                continue
            taken.append((a, b))
            if rank != "__skip__":
                hits.append(RankHit(rank, a, b, m.group(0)))
    hits.sort(key=lambda h: h.start)
    return hits


def rank_of(text: str) -> str | None:
    """The most senior rank named in a phrase, or None."""
    hits = find_ranks(normalise_phrase(text))
    if not hits:
        return None
    return max(hits, key=lambda h: level(h.rank)).rank


def level(rank: str | None) -> float:
    info = RANKS.get(rank or "")
    return info.level if info else 0.0


def code(rank: str | None) -> str | None:
    info = RANKS.get(rank or "")
    return info.code if info else None


def sector_of(rank: str | None) -> Sector | None:
    info = RANKS.get(rank or "")
    return info.sector if info else None


def seniority(rank: str | None) -> float:
    """0..1 on the ladder: 1.0 = head of state or a four-star general."""
    return round(min(1.0, level(rank) / 10.0 + (0.1 if level(rank) >= 9 else 0.0)), 2)


VAGUE_RANKS: Final = frozenset({"officer", "senior officer", "soldier", "official", "other", "pilot"})
"""Ranks that a more specific rank mentioned for the same group replaces."""
