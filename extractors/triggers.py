"""Defection cues: the cheap article pre-filter and the token patterns of the trigger component.

The pre-filter is the extractor's own gate (``Extractor.extract`` returns nothing for an article the
pre-filter rejects), so running it before the full pipeline never drops an article the extractor
would report.
"""

from __future__ import annotations

import re
from typing import Final

_CUES: Final = [
    r"defect(?:s|ed|ing|ion|ions|or|ors|ee)?\b",
    r"desert(?:ed|er|ers|ion|ions|ing)\b",
    r"(?:switch|swap|chang|flipp?)(?:ed|es|e|ing|ped|s)? (?:sides|allegiance|camps)",
    r"cross(?:ed|es|ing)? (?:the|over the) floor|floor[- ]cross",
    r"asylum",
    r"turncoat",
    r"(?:abandon|quit|left|leave|leaving)(?:ed|s|ing)? (?:his|her|their|its) (?:diplomatic )?"
    r"(?:post|posts|unit|units|command)",
    r"join(?:ed|s|ing)? (?:the |an |their )?(?:[\w-]+ )?(?:rebels?|rebellion|opposition|revolt|uprising|revolution"
    r"|insurgen\w+|resistance|free syrian army)",
    r"(?:declar|pledg|announc|swor|switch)\w* (?:his |her |their )?(?:allegiance|loyalty)",
    r"resign\w*[^.!?\n]{0,160}\b(?:in protest|protest\w*|war|crime|ashamed|invasion"
    r"|crackdown|massacre|repression|regime|join\w*)",
    r"(?:defied|defying|defy|disobey\w*|refus\w+) (?:[\w'\u2019-]+ ){0,4}orders? to "
    r"(?:shoot|fire|kill|attack|open fire)",
]
PREFILTER_RE: Final = re.compile(r"\b(?:" + "|".join(_CUES) + r")", re.IGNORECASE)
_NOT_CUE: Final = re.compile(r"\bdefect(?:ive|s)\b", re.IGNORECASE)


# Every cue contains one of these stems: a cheap first look (plain substring tests) that most news fails.
_STEMS: Final = ("defect", "desert", "sides", "allegian", "loyalty", "floor", "asylum", "turncoat", "resign",
                 "order", "rebel", "opposition", "revolt", "uprising", "revolution", "insurgen", "resistance",
                 "free syrian", "post", "unit", "command", "camps")


def cue_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of every defection cue in ``text``."""
    low = text.lower()
    if not any(stem in low for stem in _STEMS):
        return []
    out = []
    for m in PREFILTER_RE.finditer(text):
        if m.group(0).lower().startswith("defects") and _NOT_CUE.match(text, m.start()):
            # "defects" is as often a noun ("design defects") as a verb; keep only the verb reading.
            window = text[max(0, m.start() - 40) : m.start()].lower()
            if not re.search(r"\b(?:who|that|general|officer|minister|diplomat|mp|soldier|he|she)\W+$", window):
                continue
        out.append(m.span())
    return out


SECONDARY_RE: Final = re.compile(
    r"\b(?:fled|flee|flees|fleeing|crossed (?:into|to|the border)|(?:took|taken|sought|seeking|found) refuge"
    r"|escaped to|resign\w*|join(?:ed|ing|s)? (?:the|an?)\b|handed (?:him|them)sel(?:f|ves) over)",
    re.IGNORECASE,
)
"""Wording that states a defection only next to a destination or a side; it widens what is parsed in an
article that already passed the pre-filter, never what passes."""


def passes(title: str, text: str) -> bool:
    """True when an article may report a defection and must go through the full extractor."""
    return bool(cue_spans(text))


# Lemmas whose verb reading can state a defection in an article that passed the pre-filter.
DEFECT_VERBS: Final = frozenset({"defect", "desert"})
MOVE_VERBS: Final = frozenset({"flee", "cross", "escape", "seek", "apply", "request", "ask", "abandon", "quit",
                               "leave", "resign", "join", "switch", "swap", "change", "take", "arrive",
                               "declare", "pledge", "hand", "surrender", "go", "fly", "run", "break"})
