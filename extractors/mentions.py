"""Who defected: defector mentions read off noun phrases of the dependency parse.

A mention is one coordinated noun phrase ("two Syrian generals and a colonel") turned into groups
(one per named person or per rank), with counts, the origin country and whether the phrase refers
back to someone already mentioned ("the general", "he", "the four").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from spacy.tokens import Token

from extractors import ranks
from extractors.countries import country_of

NUMBER_WORDS: Final = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "dozen": 12,
    "a dozen": 12, "half a dozen": 6, "single": 1, "lone": 1, "both": 2, "pair": 2, "couple": 2,
}
VAGUE_QUANTITIES: Final = frozenset({"dozens", "hundreds", "thousands", "scores", "several", "many", "some",
                                     "numerous", "few", "multiple", "various", "countless", "tens"})
APPROX_WORDS: Final = frozenset({"some", "nearly", "about", "around", "almost", "roughly", "approximately",
                                 "up", "estimated", "close"})
OPEN_BOUND_WORDS: Final = frozenset({"more", "over", "least", "than", "upwards", "beyond", "plus"})
PRONOUNS_SINGULAR: Final = frozenset({"he", "she", "him", "her", "his", "hers", "who", "whom"})
PRONOUNS_PLURAL: Final = frozenset({"they", "them", "their", "these", "those", "who", "whom"})
PEOPLE_NOUNS: Final = frozenset({"man", "men", "woman", "women", "people", "member", "members", "defector",
                                 "defectors", "deserter", "deserters", "group", "person", "persons", "individuals",
                                 "staff", "crew", "family", "four", "three", "two", "five", "six", "seven",
                                 "eight", "nine", "ten", "seventeen", "others", "all", "both", "figure", "figures"})
_NOT_PEOPLE: Final = frozenset({"DATE", "TIME", "GPE", "ORG", "NORP", "LOC", "FAC", "EVENT", "CARDINAL",
                                "PRODUCT", "WORK_OF_ART", "LAW", "LANGUAGE", "MONEY", "QUANTITY", "ORDINAL"})
_CALENDAR: Final = frozenset({"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
                              "january", "february", "march", "april", "may", "june", "july", "august",
                              "september", "october", "november", "december", "today", "yesterday"})
_HEAD_OF_NOUNS: Final = frozenset({"head", "chief", "commander", "director", "leader", "member"})
_ANAPHORIC_ADJ: Final = frozenset({"same", "other", "new", "recent", "latest", "former", "two", "three", "four",
                                   "five", "six", "seven", "eight", "nine", "ten"})
_NAME_NOISE: Final = re.compile(
    r"^(?:(?:former|ex|the|a|an|brigadier|general|gen|brig|colonel|col|lieutenant|lt|major|maj|captain|capt|"
    r"sergeant|sgt|admiral|adm|senior|junior|first|second|mr|mrs|ms|dr|sir|minister|president|prime|deputy|"
    r"ambassador|spokesman|mp|engineer|commander|pilot)\.?[\s-]+)+",
    re.I,
)
_POSSESSIVE: Final = re.compile(r"(?:'s|\u2019s|'|\u2019)$")


@dataclass
class Group:
    """One defector entry under construction: a named person or an unnamed group of one rank."""

    name: str | None = None
    rank: str | None = None
    role: str | None = None
    count: int | None = None
    approx: bool = False
    subset: bool = False
    country: str | None = None
    head: int = -1


@dataclass
class Mention:
    groups: list[Group] = field(default_factory=list)
    anaphor: str | None = None
    """"singular"/"plural" when the phrase refers back ("he", "the general", "the men"), else None."""
    total: int | None = None
    total_approx: bool = False
    head: int = -1

    @property
    def named(self) -> list[Group]:
        return [g for g in self.groups if g.name]


def clean_name(text: str) -> str | None:
    name = _POSSESSIVE.sub("", text.strip())
    name = _NAME_NOISE.sub("", name).strip(" ,-")
    if len(name) < 3 or not any(c.isupper() for c in name[:1]):
        return None
    return name


def parse_number(tok: Token) -> tuple[int | None, bool, bool]:
    """(value, approximate, open bound) for a number token and its modifiers."""
    low = tok.lower_.replace(",", "")
    value: int | None = None
    if low.isdigit():
        value = int(low)
    elif low in NUMBER_WORDS:
        value = NUMBER_WORDS[low]
    elif "-" in low:
        parts = low.split("-")
        if all(p in NUMBER_WORDS for p in parts):
            value = sum(NUMBER_WORDS[p] for p in parts)
    mods = {c.lower_ for c in tok.children if c.dep_ in ("quantmod", "advmod", "amod", "prep", "pobj")}
    left = {t.lower_ for t in tok.doc[max(0, tok.i - 3) : tok.i]}
    approx = bool((mods | left) & APPROX_WORDS)
    open_bound = bool(mods & OPEN_BOUND_WORDS) or bool(
        {"more", "over", "least"} & {t.lower_ for t in tok.doc[max(0, tok.i - 2) : tok.i]}
    )
    return value, approx, open_bound


def _np_tokens(head: Token) -> list[Token]:
    """The head and its pre-modifiers (a noun phrase without clauses, conjuncts or appositions)."""
    keep = {"compound", "amod", "nummod", "det", "poss", "quantmod", "nmod", "case", "npadvmod", "advmod",
            "predet", "nn", "punct", "prep", "pobj"}
    out: list[Token] = []

    def walk(tok: Token) -> None:
        for c in tok.lefts:
            if c.dep_ in keep and c.dep_ not in ("prep", "pobj", "punct"):
                walk(c)
        out.append(tok)
        for c in tok.rights:
            if (c.dep_ in ("compound", "case", "nummod") or (c.dep_ == "prep" and c.lower_ == "for")
                    or (c.dep_ == "pobj" and tok.dep_ == "prep")):
                walk(c)

    walk(head)
    return sorted(out, key=lambda t: t.i)


def _countries_in(tokens: list[Token]) -> str | None:
    for t in tokens:
        if t.ent_type_ in ("NORP", "GPE", "") or t.pos_ in ("PROPN", "ADJ"):
            c = country_of(t.text)
            if c is None and t.i + 1 < len(t.doc):
                c = country_of(f"{t.text} {t.doc[t.i + 1].text}")
            if c:
                return c
    return None


def _person_in(tokens: list[Token], head: Token) -> str | None:
    """The person a noun phrase names: a PERSON entity that contains the head ("Brigadier General Adnan
    Farzat"), never one that only modifies it ("Assad officers", "Kiir's troops")."""
    if head.ent_type_ == "PERSON":
        ent = next((e for e in head.doc.ents if e.start <= head.i < e.end), None)
        if ent is not None:
            return clean_name(ent.text)
    if head.pos_ != "PROPN" or head.ent_type_ in _NOT_PEOPLE or head.lower_ in _CALENDAR:
        return None
    # A proper noun after a title ("Brigadier General Zaher al-Sakat") that NER missed.
    propn = [t for t in tokens if t.pos_ == "PROPN" and not ranks.find_ranks(ranks.normalise_phrase(t.text))
             and country_of(t.text) is None and t.ent_type_ not in ("ORG", "GPE", "NORP", "DATE", "LOC", "FAC")]
    if propn and tokens[-1].pos_ == "PROPN" and tokens[-1] in propn:
        start = propn[0].i
        run = [t for t in tokens if t.i >= start]
        if all(t.pos_ in ("PROPN", "PUNCT") for t in run) and len(run) <= 5:
            return clean_name(" ".join(t.text for t in run).replace(" - ", "-"))
    return None


def group_of(head: Token) -> Group | None:
    """A group for one noun-phrase head, or None when the phrase names no person, rank or people."""
    toks = _np_tokens(head)
    if head.lemma_ in _HEAD_OF_NOUNS:
        # "the head of Syria's military police": the title is the whole phrase.
        toks = sorted([t for t in head.subtree if not any(a.dep_ in ("relcl", "acl") for a in t.ancestors
                                                          if a.i in {x.i for x in head.subtree})],
                      key=lambda t: t.i)
    text = " ".join(t.text for t in toks)
    norm = ranks.normalise_phrase(text)
    hits = ranks.find_ranks(norm)
    name = _person_in(toks, head)
    # Titles in apposition: "Abdo Hussameldin, the deputy oil minister" / "the spokesman, Jihad Makdissi".
    for c in head.children:
        if c.dep_ == "appos":
            atoks = _np_tokens(c)
            if name is None:
                name = _person_in(atoks, c)
            if not hits:
                atext = " ".join(t.text for t in atoks)
                hits = ranks.find_ranks(ranks.normalise_phrase(atext))
                if hits:
                    text = atext
    if not hits and name is None and head.lower_ not in PEOPLE_NOUNS:
        return None
    if not hits and name:
        # A title before the name that the parse hung elsewhere: "former deputy oil minister, Abdo X".
        first = min(t.i for t in toks)
        window: list[Token] = []
        for t in reversed(head.doc[max(head.sent.start, first - 7) : first]):
            if t.pos_ in ("VERB", "AUX", "ADP") or t.text in (".", ";", ":", '"') or (
                t.ent_type_ == "PERSON" and t.i < first - 1
            ):
                break
            window.insert(0, t)
        hits = ranks.find_ranks(ranks.normalise_phrase(" ".join(t.text for t in window)))
        if hits:
            toks = window + toks
    rank = max(hits, key=lambda h: ranks.level(h.rank)).rank if hits else None
    role = None
    if rank and ranks.sector_of(rank) != "military" and rank not in ("other", "official"):
        role = re.sub(r"^(?:the|a|an)\s+", "", " ".join(t.text for t in toks if t.ent_type_ != "PERSON")).strip()
        role = re.sub(r"\s+'s\b", "'s", role) or None
    count: int | None = None
    approx = False
    nums = [t for t in toks if t.dep_ == "nummod" or (t.like_num and t.i < head.i)]
    if name:
        count = 1
    elif nums:
        value, approx, open_bound = parse_number(nums[0])
        count = None if open_bound else value
    elif of_num := [o for c in head.children if c.dep_ == "prep" and c.lower_ == "of"
                    for o in c.children if o.dep_ == "pobj" and o.like_num]:
        value, approx, open_bound = parse_number(of_num[0])  # "a tank crew of three"
        count = None if open_bound else value
    elif head.tag_ in ("NN", "NNP") or head.lower_ in ("one",) or any(
        c.dep_ == "det" and c.lower_ in ("a", "an", "one", "another") for c in head.children
    ):
        count = 1
    elif any(t.lower_ in VAGUE_QUANTITIES for t in toks):
        count = None
    country = _countries_in(toks)
    if country is None:
        # "a presenter from the Syrian regime's main television channel", "an officer of the Libyan army"
        for c in head.children:
            if c.dep_ == "prep" and c.lower_ in ("from", "of", "in"):
                country = _countries_in(list(c.subtree))
                if country:
                    break
    return Group(name=name, rank=rank, role=role, count=count, approx=approx, country=country, head=head.i)


def _expand_group_head(tok: Token) -> Token:
    """"a group of some 20 soldiers" -> "soldiers"; "the number of officers" -> "officers"."""
    if tok.lemma_ in ("group", "number", "total", "contingent", "team", "batch", "unit", "dozen", "handful") or \
            tok.lower_ in ("dozens", "hundreds", "scores", "thousands", "tens"):
        for c in tok.children:
            if c.dep_ == "prep" and c.lower_ == "of":
                objs = [o for o in c.children if o.dep_ == "pobj"]
                if objs:
                    return objs[0]
    return tok


def mention_of(head: Token) -> Mention:
    """The defector mention whose phrase is headed by ``head`` (with its conjuncts and inclusions)."""
    head = _expand_group_head(head)
    low = head.lower_
    if head.pos_ == "PRON" or low in PRONOUNS_SINGULAR | PRONOUNS_PLURAL:
        plural = low in PRONOUNS_PLURAL and low not in ("who", "whom")
        return Mention(anaphor="plural" if plural else "singular", head=head.i)
    m = Mention(head=head.i)
    heads = [head] + [c for c in head.conjuncts if c.i > head.i and c.pos_ in ("NOUN", "PROPN", "NUM")]
    for h in heads:
        g = group_of(_expand_group_head(h))
        if g is not None:
            m.groups.append(g)
        # "including a general" / "among them two colonels": a breakdown of the group, not extra people.
        for c in _expand_group_head(h).children:
            breakdown = c.dep_ == "prep" and c.lower_ in ("including", "among")
            listing = c.dep_ == "appos" and (g is None or g.name is None)
            if breakdown or listing:
                objs = [o for o in c.children if o.dep_ == "pobj"] if breakdown else [c]
                for o in objs:
                    for oh in [o, *[x for x in o.conjuncts if x.i > o.i]]:
                        sg = group_of(oh)
                        if sg is not None and (sg.rank or sg.name):
                            sg.subset = True
                            m.groups.append(sg)
    main = [g for g in m.groups if not g.subset]
    if main and all(g.count is not None for g in main):
        m.total = sum(g.count or 0 for g in main)
        m.total_approx = any(g.approx for g in main)
    elif not main and m.groups:
        subs = m.groups
        if all(g.count is not None for g in subs):
            m.total = sum(g.count or 0 for g in subs)
    det = {c.lower_ for c in head.children if c.dep_ in ("det", "poss")}
    nums = any(c.dep_ == "nummod" for c in head.children)
    bare = all(c.dep_ in ("det", "nummod", "amod", "punct") and (c.dep_ != "amod" or c.lower_ in _ANAPHORIC_ADJ)
               for c in head.lefts) and not any(c.dep_ == "prep" and c.lower_ == "of" for c in head.rights)
    if det & {"the", "these", "those", "this", "that"} and bare and not any(g.name for g in m.groups):
        m.anaphor = "plural" if head.tag_ in ("NNS", "NNPS") or nums else "singular"
    if low in PEOPLE_NOUNS and not m.groups:
        m.anaphor = m.anaphor or ("plural" if head.tag_ in ("NNS", "CD") else "singular")
    return m
