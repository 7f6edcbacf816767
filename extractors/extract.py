"""The defection extractor: one article in, its defection events out. Pure: no I/O, no global state."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Final

from spacy.language import Language
from spacy.tokens import Doc, Span, Token

from extractors import ranks, triggers
from extractors.countries import country_of, find_countries
from extractors.dates import When, resolve
from extractors.dedup import names_match
from extractors.dedup import surname as _surname
from extractors.mentions import Group, Mention, mention_of
from extractors.models import Article, DefectionEvent, Defector, Sector, Source, Status
from extractors.pipeline import load_pipeline, triggers_in

_DENIAL: Final = re.compile(
    r"\b(?:(?:den(?:y|ied|ies|ying|ial)|refut\w+|dismiss\w*|reject\w*)\b[^.;]{0,60}?\b(?:defect\w*|desert\w*|"
    r"fled|flee\w*|left|switch\w*|reports?|rumou?rs?)|(?:no truth|not true|false|fabricat\w+)[^.;]{0,40}?"
    r"\b(?:defect\w*|reports?|rumou?rs?)|(?:had|has|have) not (?:defected|left|fled)|did not (?:defect|leave|flee)|"
    r"never defected|still in (?:his|her) (?:home|post|office|position)|remains? loyal)",
    re.I,
)
_HEDGES: Final = re.compile(
    r"\b(?:reportedly|unconfirmed|could not (?:be )?(?:independently )?(?:verif|confirm)\w*|"
    r"not (?:been )?(?:able|immediately available) to (?:independently )?(?:verify|confirm)|"
    r"according to (?:rebel|activist|opposition|unnamed|anonymous)\w* sources?|(?:rebel|activist|opposition) sources|"
    r"on condition of anonymity|claimed|claims|rumou?r\w*|is said to|are said to|allegedly|unverified|"
    r"sources (?:said|say|told)|it is unclear|apparent(?:ly)?)\b",
    re.I,
)
_CONFIRM: Final = re.compile(
    r"\b(?:confirmed|confirms|official statement|state(?:-run)? (?:media|television|tv|news agency)|"
    r"ministry (?:said|says|confirmed)|told (?:reuters|the associated press|the ap|afp|the guardian|bbc)|"
    r"in a video|announced|officially)\b",
    re.I,
)
_PARTY: Final = re.compile(
    r"\b(?:cross(?:ed|es|ing)? the floor|floor[- ]cross\w*|caucus|benches|(?:labour|conservative|liberal|tory|"
    r"tories|democratic|republican|socialist|green|reform|national|opposition|ruling) (?:party|benches|caucus)|"
    r"(?:join\w*|to) (?:the )?(?:labour|conservatives|liberals|tories|democrats|republicans)\b|"
    r"(?:left|quit|leaves|quits|leaving|quitting) (?:the|his|her) (?:\w+ )?party)",
    re.I,
)
_TITLE_NEWS: Final = re.compile(
    r"\b(?:defects?|defected|defecting|defection|flees?|fled|fleeing|seeks? asylum|asylum|resigns?|quits?|crosse[sd]|"
    r"crossing|ditches|switch(?:es)? sides|joins?|deserts?)\b",
    re.I,
)
_TITLE_LABEL: Final = re.compile(r"\b(?:defectors?|former defector)\b", re.I)
_TITLE_RELATIVE: Final = re.compile(r"\bwho (?:defected|fled|deserted)\b", re.I)
_OPPOSITION: Final = re.compile(
    r"\b(?:rebel\w*|insurgen\w*|revolt|uprising|revolution\w*|resistance|opposition|free syrian army|fsa|"
    r"labour|conservatives?|liberals?|tor(?:y|ies)|democrats?|republicans?|caucus|party|enemy|ukraine|kyiv)\b",
    re.I,
)
_ACCEPT_OBJECTS: Final = {
    "abandon": {"post", "posts", "regime", "army", "side", "unit", "command", "government", "mission", "embassy",
                "party", "position"},
    "quit": {"army", "regime", "post", "party", "government", "military", "force", "forces"},
    "leave": {"caucus", "party", "regime", "army", "post"},
    "switch": {"side", "sides", "allegiance", "camp", "camps"},
    "swap": {"side", "sides"},
    "change": {"side", "sides", "allegiance"},
    "declare": {"allegiance", "loyalty", "defection"},
    "pledge": {"allegiance", "loyalty"},
    "cross": {"floor"},
}
_DEST_VERBS: Final = frozenset({"flee", "escape", "cross", "go", "fly", "run", "arrive", "take", "head", "defect",
                                "seek", "apply", "request", "ask", "desert", "land", "reach"})
_SENIOR_PLURAL_MIN: Final = 6.0
BACKGROUND_AGE_DAYS: Final = 3.5
HEADLINE_AGE_DAYS: Final = 45.0


@dataclass
class Draft:
    """One defection statement read off one sentence."""

    mention: Mention
    sent_idx: int
    trigger: str
    to: str | None = None
    from_: str | None = None
    joined: str | None = None
    when: When | None = None
    background_cue: bool = False
    denied: bool = False
    party_cue: bool = False
    key: tuple[int, int] = (0, 0)


@dataclass
class Cluster:
    drafts: list[Draft] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)

    @property
    def first(self) -> Draft:
        return self.drafts[0]

    @property
    def names(self) -> list[str]:
        return [g.name for g in self.groups if g.name]

    @property
    def last_sent(self) -> int:
        return max(d.sent_idx for d in self.drafts)


@dataclass
class _Sentence:
    span: Span
    offset: int

    @property
    def text(self) -> str:
        return self.span.text


class Extractor:
    """Runs the spaCy pipeline on the parts of an article that carry defection cues and reads events off
    the parse. One instance holds one pipeline; ``extract`` and ``extract_many`` are safe to call
    repeatedly and keep no state between articles."""

    def __init__(self, nlp: Language | None = None, model: str | None = None, batch_size: int = 32) -> None:
        self.nlp = nlp if nlp is not None else load_pipeline(model)
        self.batch_size = batch_size

    # -- public API ---------------------------------------------------------------------------------

    def extract(self, article: Article) -> list[DefectionEvent]:
        return next(self.extract_many([article]))[1]

    def extract_many(self, articles: Iterable[Article]) -> Iterator[tuple[Article, list[DefectionEvent]]]:
        """Events of each article, in input order; articles the pre-filter rejects never reach spaCy."""
        for article, events, _ in self.extract_gated(articles):
            yield article, events

    def extract_gated(self, articles: Iterable[Article]) -> Iterator[tuple[Article, list[DefectionEvent], bool]]:
        """``extract_many`` that also tells whether each article passed the pre-filter (for metrics, without
        running the pre-filter a second time)."""
        pending: list[tuple[Article, list[tuple[int, int]]]] = []
        to_parse = 0
        for article in articles:
            segs = segments(article.text)
            pending.append((article, segs))
            to_parse += bool(segs)
            # A batch is counted in articles that need the parser, so a stream that is mostly rejected by the
            # pre-filter still feeds spaCy full batches (bounded, to keep output flowing).
            if to_parse >= self.batch_size or len(pending) >= 16 * self.batch_size:
                yield from self._run(pending)
                pending, to_parse = [], 0
        if pending:
            yield from self._run(pending)

    # -- internals ----------------------------------------------------------------------------------

    def _run(
        self, batch: list[tuple[Article, list[tuple[int, int]]]]
    ) -> Iterator[tuple[Article, list[DefectionEvent], bool]]:
        jobs = [(a.text[s:e], (i, s)) for i, (a, segs) in enumerate(batch) for s, e in segs]
        docs: dict[int, list[tuple[Doc, int]]] = {}
        for doc, (i, start) in self.nlp.pipe(jobs, as_tuples=True, batch_size=max(64, 4 * self.batch_size)):
            docs.setdefault(i, []).append((doc, start))
        for i, (article, segs) in enumerate(batch):
            parts = docs.get(i, [])
            yield article, (read_events(article, parts) if parts else []), bool(segs)


_CONTINUES: Final = re.compile(r"\s*[\"\u201c]?(?:The|They|He|She|These|Those|His|Her|Their|We|I)\b")


def segments(text: str) -> list[tuple[int, int]]:
    """Character ranges worth parsing, one per paragraph: each paragraph with a defection cue or a
    movement cue, and a next paragraph that refers back to it. Empty when the pre-filter rejects
    the article. Paragraphs are parsed separately so that a sentence never runs across a paragraph break."""
    cues = triggers.cue_spans(text)
    if not cues:
        return []
    paras = [(m.start(), m.end()) for m in re.finditer(r"[^\n]+(?:\n(?!\s*\n)[^\n]+)*", text)]
    keep: set[int] = set()
    primary = {j for cs, _ in cues for j, (ps, pe) in enumerate(paras) if ps <= cs < pe}
    # Movement wording ("fled to", "crossed into") counts near a defection cue: within two paragraphs.
    secondary = [m.start() for m in triggers.SECONDARY_RE.finditer(text)]
    for cs in [c for c, _ in cues] + secondary:
        for j, (ps, pe) in enumerate(paras):
            if ps <= cs < pe and (j in primary or any(abs(j - p) <= 2 for p in primary)):
                keep.add(j)
                # A next paragraph that opens by referring back ("The men fled ...", "He said ...").
                if j + 1 < len(paras) and _CONTINUES.match(text, paras[j + 1][0]):
                    keep.add(j + 1)
    return [paras[j] for j in sorted(keep) if 0 <= j < len(paras)]


# ---- reading events off parsed sentences ------------------------------------------------------------


def read_events(article: Article, parts: list[tuple[Doc, int]]) -> list[DefectionEvent]:
    """Events read off the parsed parts of an article. An article without a defection cue has none, so
    the pre-filter in front of the pipeline can never drop an article this function would report."""
    if not triggers.passes(article.title, article.text):
        return []
    sents = [_Sentence(s, off) for doc, off in parts for s in doc.sents]
    registry = _person_registry(sents)
    drafts: list[Draft] = []
    for idx, sent in enumerate(sents):
        seen_heads: set[tuple[int, int]] = set()
        for trig in triggers_in(sent.span):
            prev = sents[idx - 1] if idx and sents[idx - 1].span.doc is sent.span.doc else None
            d = _draft_for(trig, idx, sent, article.published, prev)
            if d is None:
                continue
            key = (id(sent.span.doc), d.mention.head)
            if key in seen_heads:
                _absorb_same_head(drafts, key, d)
                continue
            seen_heads.add(key)
            d.key = key
            drafts.extend(_split_by_sector(d))
    full = f"{article.title}\n{article.text}"
    for d in drafts:
        _fill_from_registry(d.mention, registry, full)
    _add_breakdowns(drafts, sents)
    clusters = _cluster(drafts, sents)
    clusters = _name_singletons(clusters, registry, full)
    _refine_vague_ranks(clusters, sents)
    destinations = {d.to for c in clusters for d in c.drafts if d.to}
    fallback_from = _article_country(article, destinations)
    title_news = bool(_TITLE_NEWS.search(_TITLE_RELATIVE.sub(" ", article.title))) and not _TITLE_LABEL.search(
        article.title)
    # The lead event: the freshest of the events the title speaks of (ties: the first told).
    lead = min((c for c in clusters if _in_title(c, article.title)),
               key=lambda c: (_min_age(c), c.first.sent_idx), default=None)
    events = []
    for c in clusters:
        ev = _event(c, sents, article, fallback_from, title_news and c is lead,
                    bool(_TITLE_LABEL.search(article.title)) and not title_news)
        if ev is not None:
            events.append(ev)
    return events


def _min_age(c: Cluster) -> float:
    ages = [d.when.age_days for d in c.drafts if d.when and d.when.age_days is not None]
    return min(ages) if ages else 0.0


def _in_title(c: Cluster, title: str) -> bool:
    low = title.lower()
    if any(_surname(n) and _surname(n) in low for n in c.names):
        return True
    title_ranks = {h.rank for h in ranks.find_ranks(ranks.normalise_phrase(title))}
    ours = {g.rank for g in c.groups}
    if title_ranks & ours:
        return True
    # "Top Syria officers defect": a vague military title covers any officer event.
    return bool(title_ranks & {"senior officer", "officer"}) and any(
        ranks.sector_of(r) == "military" and ranks.level(r) >= 1.5 for r in ours if r)


def _add_breakdowns(drafts: list[Draft], sents: list[_Sentence]) -> None:
    """"The soldiers who fled include a general, three colonels and ..." / "the group included a general
    and two colonels": a breakdown of the group just reported, added to it as subsets."""
    for idx, sent in enumerate(sents):
        for t in sent.span:
            if t.lemma_ not in ("include", "comprise") or t.pos_ != "VERB":
                continue
            subj = next((c for c in t.children if c.dep_ in ("nsubj", "nsubjpass")), None)
            obj = next((c for c in t.children if c.dep_ == "dobj"), None)
            if subj is None or obj is None:
                continue
            sm = mention_of(subj)
            if sm.named or not (sm.anaphor or subj.lemma_ in ("group", "defector", "soldier", "officer")):
                continue
            parts = mention_of(obj)
            groups = [g for g in parts.groups if g.rank and not g.name]
            if not groups:
                continue
            target = next((d for d in reversed(drafts) if 0 <= idx - d.sent_idx <= 2 and not d.mention.named
                           and (d.mention.total or 0) != 1), None)
            if target is None:
                continue
            for g in groups:
                g.subset = True
                if not any(x.rank == g.rank for x in target.mention.groups):
                    target.mention.groups.append(g)


def _absorb_same_head(drafts: list[Draft], key: tuple[int, int], d: Draft) -> None:
    for prev in drafts:
        if prev.key == key:
            prev.to = prev.to or d.to
            prev.joined = prev.joined or d.joined
            prev.from_ = prev.from_ or d.from_
            prev.when = prev.when or d.when
            if prev.trigger == d.trigger:
                prev.background_cue = prev.background_cue and d.background_cue
            prev.party_cue = prev.party_cue or d.party_cue


def _person_registry(sents: list[_Sentence]) -> list[Group]:
    """Every person named in the parsed text, with the title found next to the name."""
    out: list[Group] = []
    for s in sents:
        for ent in s.span.ents:
            if ent.label_ == "PERSON":
                g = mention_of(ent.root)
                out.extend(x for x in g.groups if x.name)
    return out


def _rank_near_name(text: str, name: str) -> str | None:
    """The title written just before a name anywhere in the article ("Tory MP Christian Wakeford",
    "Lt. Col. Chan Garang"): the most senior one found."""
    sur = _surname(name)
    if len(sur) < 3:
        return None
    found: list[str] = []
    for m in re.finditer(re.escape(name.split()[-1]), text):
        window = text[max(0, m.start() - 60) : m.start()]
        window = re.split(r"[.;:!?\n\"\u201c\u201d]|\b(?:and|said|says|told|for|by|with|to)\b", window)[-1]
        found.extend(h.rank for h in ranks.find_ranks(ranks.normalise_phrase(window)))
        after = text[m.end() : m.end() + 60]
        appos = re.match(r"\s*,\s*(?:a|an|the|who was|who is)?\s*([^,.;]{3,50})", after)
        if appos:
            found.extend(h.rank for h in ranks.find_ranks(ranks.normalise_phrase(appos.group(1))))
    found = [r for r in found if r != "head of state"]
    return max(found, key=ranks.level) if found else None


def _strict_name_match(a: str, b: str) -> bool:
    """In-article coreference of names: surnames nearly equal, and first names equal when both have one
    (Asaad is not Assad; Riad Hijab is not Hijab's brother)."""
    sa, sb = _surname(a), _surname(b)
    if not sa or not sb or SequenceMatcher(None, sa, sb).ratio() < 0.85:
        return False
    fa, fb = a.split()[0].lower(), b.split()[0].lower()
    return len(a.split()) < 2 or len(b.split()) < 2 or fa == fb or fa[:3] == fb[:3]


def _fill_from_registry(m: Mention, registry: list[Group], full_text: str) -> None:
    for g in m.groups:
        if not g.name:
            continue
        if g.rank is None:
            g.rank = _rank_near_name(full_text, g.name)
        same = [r for r in registry if r.name and r.rank != "head of state" and _strict_name_match(r.name, g.name)]
        if not same:
            continue
        longest = max(same, key=lambda r: len(r.name or ""))
        if len(longest.name or "") > len(g.name):
            g.name = longest.name
        if g.rank is None or g.rank in ranks.VAGUE_RANKS:
            ranked = [r for r in same if r.rank]
            if ranked:
                best = max(ranked, key=lambda r: ranks.level(r.rank))
                g.rank, g.role = best.rank, g.role or best.role
        g.country = g.country or next((r.country for r in same if r.country), None)


def _coordination_head(tok: Token) -> Token:
    while tok.dep_ == "conj" and tok.head.i != tok.i and tok.head.pos_ in ("NOUN", "PROPN", "NUM"):
        tok = tok.head
    return tok


def _subjects(tok: Token) -> list[Token]:
    cur = tok
    for _ in range(4):
        subs = [c for c in cur.children if c.dep_ in ("nsubj", "nsubjpass", "csubj")]
        if subs:
            # "One general, two colonels and five officers crossed": several subjects of one verb.
            if subs[0].lower_ in ("who", "that", "which") and cur.dep_ in ("relcl", "acl"):
                return [_coordination_head(cur.head)]
            if subs[0].pos_ == "PRON" and cur.dep_ in ("ccomp",) and subs[0].lower_ in ("they", "he", "she"):
                outer = [c for c in cur.head.children if c.dep_ in ("nsubj", "nsubjpass")]
                if outer and outer[0].pos_ != "PRON" and mention_of(outer[0]).groups:
                    return outer
            return subs
        if cur.dep_ in ("relcl", "acl"):
            return [_coordination_head(cur.head)]
        if cur.dep_ in ("conj", "xcomp", "advcl", "pcomp", "ccomp") and cur.head.i != cur.i:
            cur = cur.head
            continue
        break
    return []


def _owner_of_noun(tok: Token) -> list[Token]:
    """Who a defection noun belongs to: "his defection", "Sleiba's defection", "the defection of X"."""
    for c in tok.children:
        if c.dep_ == "prep" and c.lower_ == "of":
            objs = [o for o in c.children if o.dep_ == "pobj"]
            if objs:
                return objs
    for c in tok.children:
        if c.dep_ == "poss":
            if c.pos_ != "PRON":
                return [c]
            verb = tok.head
            while verb.pos_ not in ("VERB", "AUX") and verb.head.i != verb.i:
                verb = verb.head
            if verb.pos_ in ("VERB", "AUX"):
                subs = _subjects(verb)
                if subs and subs[0].pos_ != "PRON":
                    return subs
            return [c]
    if tok.dep_ == "pobj" and tok.head.lower_ == "in" and tok.head.head.dep_ == "ROOT" and \
            tok.head.i < tok.head.head.i:
        # "In military defections on Monday, a general and seven officers were among ...": the fronted
        # phrase names what the main clause's subjects did.
        return _subjects(tok.head.head)
    if tok.dep_ in ("dobj", "pobj") and tok.head.pos_ == "VERB" and tok.head.lemma_ in (
        "announce", "declare", "broadcast", "confirm", "make", "film", "post", "explain", "cite"
    ):
        return _subjects(tok.head)
    return []


def _clause_verbs(tok: Token) -> list[Token]:
    verbs = [tok, *[c for c in tok.conjuncts]]
    for v in list(verbs):
        verbs.extend(c for c in v.children if c.dep_ in ("xcomp", "advcl", "conj") and c.pos_ == "VERB")
    if tok.dep_ in ("relcl", "acl") and tok.head.head.pos_ in ("VERB", "AUX"):
        verbs.append(tok.head.head)
    return verbs


_NESTED_CLAUSES: Final = frozenset({"relcl", "advcl", "ccomp", "acl", "csubj", "parataxis"})


def own_clause(tok: Token) -> Iterator[Token]:
    """The tokens of ``tok``'s subtree without the clauses nested in it (relative, adverbial ...)."""
    yield tok
    for c in tok.children:
        if c.dep_ in _NESTED_CLAUSES or (c.dep_ == "conj" and c.pos_ in ("VERB", "AUX")):
            continue
        yield from own_clause(c)


def _same_actor(tok: Token) -> Iterator[Token]:
    """``tok``'s subtree without nested clauses that have a subject of their own ("resigned, calling the
    war a crime" keeps "calling ..."; "resigned days after X left the party to join Y" drops the rest)."""
    yield tok
    for c in tok.children:
        if c.dep_ in _NESTED_CLAUSES and any(x.dep_ in ("nsubj", "nsubjpass") for x in c.children):
            continue
        if c.dep_ == "prep" and any(x.dep_ == "pcomp" and any(y.dep_ == "nsubj" for y in x.children)
                                    for x in c.children):
            continue
        yield from _same_actor(c)


def _stay_in(head: Token) -> bool:
    """"in X" names where the defector went: asylum / refuge in X, arrived / landed in X, sought asylum in X."""
    if head.lemma_ in ("asylum", "refuge", "shelter", "arrive", "land", "take"):
        return True
    return head.lemma_ in ("seek", "request", "apply", "ask", "claim", "find", "receive", "grant") and any(
        c.lemma_ in ("asylum", "refuge", "protection", "shelter") for c in head.children)


def _destination(verbs: list[Token]) -> str | None:
    for v in verbs:
        if v.lemma_ not in _DEST_VERBS and v.lemma_ not in ("defection", "asylum", "refuge") and v.pos_ == "VERB":
            continue
        for c in own_clause(v):
            if c.dep_ == "prep" and c.lower_ in ("to", "into", "in", "for") and (
                c.head.lemma_ in _DEST_VERBS or c.head.lemma_ in ("asylum", "refuge", "shelter", "defection", "camp")
            ):
                if c.lower_ == "in" and not _stay_in(c.head):
                    continue
                for o in c.children:
                    if o.dep_ == "pobj":
                        country = _place_country(o)
                        if country:
                            return country
    return None


_PLACE_NOUNS: Final = frozenset({"province", "town", "city", "border", "region", "territory", "soil", "side",
                                 "camp", "village", "capital", "embassy", "consulate", "base", "coast", "area"})


def _place_country(obj: Token) -> str | None:
    """The country of a destination phrase: "Turkey", "a camp in neighbouring Turkey", "the southern Turkish
    province of Hatay" (a demonym counts only on a place noun: "a camp for Syrian deserters" is no place)."""
    name = " ".join(t.text for t in obj.lefts if t.dep_ == "compound" and t.i == obj.i - 1) + " " + obj.text
    direct = country_of(name.strip()) or country_of(obj.text)
    if direct and obj.ent_type_ != "NORP":
        return direct
    for t in own_clause(obj):
        if t.i == obj.i:
            continue
        if t.ent_type_ in ("GPE", "LOC") or (t.pos_ == "PROPN" and t.ent_type_ != "NORP"):
            c = country_of(t.text)
            if c:
                return c
        if t.dep_ == "amod" and t.head.lemma_ in _PLACE_NOUNS:
            c = country_of(t.text)
            if c:
                return c
    return None


def _joined(verbs: list[Token]) -> str | None:
    for v in verbs:
        for c in v.subtree:
            obj: Token | None = None
            if c.lemma_ == "join" and c.pos_ == "VERB":
                objs = [o for o in c.children if o.dep_ in ("dobj", "attr")]
                obj = objs[0] if objs else None
            elif c.dep_ == "prep" and c.lower_ == "to" and c.head.lemma_ in ("defect", "defection", "switch"):
                objs = [o for o in c.children if o.dep_ == "pobj"]
                obj = objs[0] if objs else None
            if obj is None or country_of(obj.text):
                continue
            text = " ".join(t.text for t in obj.subtree if t.dep_ not in ("det", "relcl", "acl") and t.i <= obj.i)
            low = text.lower()
            if "free syrian army" in low or low.endswith("fsa"):
                return "Free Syrian Army"
            if re.search(r"rebel|insurg|revolt|uprising|revolution", low):
                return "rebels"
            if "opposition" in low:
                return "opposition"
            if _OPPOSITION.search(low) and len(text) < 60:
                return text.strip()
    return None


def _origin(verbs: list[Token], m: Mention) -> str | None:
    for g in m.groups:
        if g.country:
            return g.country
    for v in verbs:
        for c in v.children:
            if c.dep_ == "prep" and c.lower_ == "from":
                for t in c.subtree:
                    country = country_of(t.text)
                    if country:
                        return country
    return None


def _move_ok(tok: Token, sent: _Sentence) -> bool:
    """A movement or resignation verb states a defection only with a destination, a side or a cause."""
    lemma = tok.lemma_
    sub_lemmas = {t.lemma_.lower() for t in tok.subtree}
    if tok.lower_ == "asylum":
        gov = next((a for a in tok.ancestors if a.pos_ in ("VERB", "AUX")), None)
        return gov is None or _is_event_verb(gov)
    if lemma in ("seek", "apply", "request", "ask"):
        return "asylum" in sub_lemmas
    if lemma in _ACCEPT_OBJECTS and lemma != "cross":
        obj_lemmas = {c.lemma_.lower() for c in tok.children if c.dep_ in ("dobj", "pobj", "prep", "attr")}
        obj_lemmas |= {o.lemma_.lower() for c in tok.children if c.dep_ == "prep" for o in c.children}
        if not obj_lemmas & _ACCEPT_OBJECTS[lemma]:
            return False
        return lemma not in ("leave", "quit") or "join" in sub_lemmas or lemma == "quit"
    if lemma == "cross" and "floor" in sub_lemmas:
        return True
    if lemma in ("resign", "resignation") or tok.lower_ == "resignation":
        gov = tok if tok.pos_ == "VERB" else next((a for a in tok.ancestors if a.pos_ == "VERB"), tok)
        clause = " ".join(t.text for t in _same_actor(gov))
        return bool(re.search(r"\b(?:protest|war|crime|ashamed|invasion|crackdown|massacre|repression|regime|"
                              r"join\w*|revolt|revolution|uprising|opposition)", clause, re.I))
    if lemma == "join":
        objs = [c for c in tok.children if c.dep_ in ("dobj", "attr")]
        return bool(objs) and bool(_OPPOSITION.search(" ".join(t.text for t in objs[0].subtree)))
    if lemma in ("flee", "escape", "cross", "go", "fly", "run", "arrive", "take", "head", "break", "reach"):
        if lemma == "take" and not sub_lemmas & {"refuge", "shelter"}:
            return False
        dest = _destination([tok])
        return dest is not None or ("join" in sub_lemmas and bool(_OPPOSITION.search(sent.text)))
    return False


def _earlier_than_main_event(tok: Token) -> bool:
    """A defection told inside "after ..."/"following ..."/"since ..." is the earlier event that the
    sentence's news follows ("... pass into Turkey, after opposition groups said 7 officers defected")."""
    for a in [tok, *tok.ancestors]:
        if any(c.dep_ == "mark" and c.lower_ in ("after", "since") for c in a.children):
            return True
        if a.dep_ in ("pcomp", "pobj") and a.head.lower_ in ("after", "following", "since"):
            return True
        if a.dep_ == "ROOT":
            break
    return False


def _among(head: Token) -> list[Mention]:
    """"a general and seven officers were among dozens of soldiers who fled": the subject of "be among"
    is part of the group that defected."""
    h = head
    while h.dep_ == "pobj" and h.head.lower_ == "of" and h.head.head.i != h.head.i:
        h = h.head.head
    if not (h.dep_ == "pobj" and h.head.lower_ == "among" and h.head.head.lemma_ == "be"):
        return []
    out = []
    for c in h.head.head.children:
        if c.dep_ in ("nsubj", "nsubjpass"):
            m = mention_of(c)
            for g in m.groups:
                g.subset = True
            out.append(m)
    return out


def _antecedent_in_sentence(pron: Token) -> Token | None:
    """The person or group a pronoun refers back to within its sentence ("Ontario MP Leona Alleslev
    surprised many in announcing that she was crossing the floor")."""
    plural = pron.lower_ in ("they", "them", "their")
    for t in reversed(pron.sent[: pron.i - pron.sent.start]):
        if t.pos_ not in ("NOUN", "PROPN") or t.dep_ in ("compound", "poss", "amod"):
            continue
        m = mention_of(t)
        if not m.groups:
            continue
        is_plural = any((g.count or 2) > 1 for g in m.groups) and not m.named
        if is_plural == plural and (m.named or any(g.rank for g in m.groups)):
            return t
    return None


def _split_by_sector(d: Draft) -> list[Draft]:
    """"the prime minister and 17 officers defected": one draft per kind of defector (state vs military)."""
    def kind(g: Group) -> str:
        sec = ranks.sector_of(g.rank)
        return "civil" if sec in ("government", "diplomatic", "party") else "armed" if sec else "?"

    kinds = {kind(g) for g in d.mention.groups} - {"?"}
    if len(kinds) < 2:
        return [d]
    out = []
    for k in sorted(kinds):
        groups = [g for g in d.mention.groups if kind(g) in (k, "?")]
        main = [g for g in groups if not g.subset]
        total = sum(g.count or 0 for g in main) if main and all(g.count is not None for g in main) else None
        m = Mention(groups=groups, total=total, total_approx=any(g.approx for g in main), head=groups[0].head)
        out.append(Draft(mention=m, sent_idx=d.sent_idx, trigger=d.trigger, to=d.to, from_=d.from_,
                         joined=d.joined, when=d.when, background_cue=d.background_cue, denied=d.denied,
                         party_cue=d.party_cue, key=(d.key[0], groups[0].head)))
    return out


_CONNECTIVE: Final = re.compile(r"(?:meanwhile|also|separately|in addition|similarly|likewise|at the same time)\b",
                                re.I)


def _draft_for(trig: Span, idx: int, sent: _Sentence, published: dt.date | None,
               prev: _Sentence | None = None) -> Draft | None:
    tok = trig.root
    label = trig.label_
    heads: list[Token]
    background = False
    if label == "AGENT":
        heads = [tok]
        background = True
        if tok.dep_ in ("nsubj", "nsubjpass") and tok.head.lemma_ in ("defect", "flee", "cross", "arrive"):
            background = False
    elif label == "NOUN":
        heads = _owner_of_noun(tok)
        if tok.lower_.endswith("s") and not heads:
            return None
    elif label == "MOVE":
        if not _move_ok(tok, sent):
            return None
        heads = _subjects(tok) if tok.pos_ == "VERB" else _owner_of_noun(tok) or _subjects(tok.head)
    else:
        if tok.pos_ in ("ADJ",):
            return None
        heads = _subjects(tok)
    if label in ("VERB", "MOVE") and tok.pos_ == "VERB" and not _is_event_verb(tok):
        return None
    if not heads:
        return None
    if heads[0].lower_ in ("i", "we"):
        appos = [c for c in heads[0].children if c.dep_ == "appos"]
        speaker = appos[0] if appos else next(
            (c for t in sent.span if t.lemma_ in ("say", "tell", "write", "add", "declare")
             for c in t.children if c.dep_ == "nsubj" and c.pos_ != "PRON"), None)
        if speaker is None:
            return None
        heads = [speaker]
    mention = _merge_mentions([mention_of(h) for h in heads] + _among(heads[0]))
    if mention.anaphor and not mention.groups and heads[0].pos_ == "PRON":
        ante = _antecedent_in_sentence(heads[0])
        if ante is not None:
            mention = mention_of(ante)
    # "defected with more than 200 soldiers": people who went along belong to the event.
    if tok.pos_ == "VERB":
        for c in tok.children:
            if c.dep_ == "prep" and c.lower_ == "with":
                for o in c.children:
                    companion = mention_of(o) if o.dep_ == "pobj" else None
                    if companion and any(g.rank and g.rank not in ("other",) and not g.name
                                         for g in companion.groups):
                        mention = _merge_mentions([mention, companion])
    if not mention.groups and mention.anaphor is None:
        return None
    if label == "AGENT" and not any(g.name or (g.count and g.count > 1 and tok.tag_ == "NNS")
                                    or (g.rank and g.rank not in ranks.VAGUE_RANKS) for g in mention.groups):
        return None
    verbs = _clause_verbs(tok if tok.pos_ in ("VERB", "AUX") else tok.head)
    if label in ("NOUN",):
        verbs = [tok, *verbs]
    # "The first general to defect was X" / "X was the first brigadier general to announce his defection":
    # the copula joins a name and a title, and "first ... to" marks a past defection told as context.
    h0 = heads[0]
    partner: Token | None = None
    if h0.dep_ in ("nsubj", "attr") and h0.head.lemma_ == "be":
        cop = h0.head
        partner = next((c for c in cop.children if c.dep_ in ("attr", "nsubj") and c.i != h0.i), None)
        if partner is None and cop.dep_ == "xcomp":
            partner = next((c for c in cop.head.children if c.dep_ in ("nsubj", "nsubjpass")), None)
    if partner is not None:
        extra = mention_of(partner)
        named = [g for g in mention.groups if g.name]
        if extra.named and not named:
            unnamed = next((g for g in mention.groups if g.name is None), None)
            if unnamed is not None:
                unnamed.name, unnamed.count = extra.named[0].name, 1
            else:
                mention.groups.extend(extra.named)
        elif named and not any(g.rank for g in named):
            rank = next((g.rank for g in extra.groups if g.rank), None)
            if rank:
                named[0].rank = rank
    clausal = tok.dep_ in _MODIFIER_CLAUSES or tok.head.dep_ in _MODIFIER_CLAUSES
    for np in (h0, partner):
        if clausal and np is not None and any(c.lower_ in _ORDINALS for c in np.subtree
                                              if c.i < np.i and c.dep_ in ("amod", "advmod", "compound")):
            background = True
    if _earlier_than_main_event(tok):
        background = True
    if mention.groups and all(g.count is None and not g.name and g.rank in ranks.VAGUE_RANKS
                              for g in mention.groups) and any(
            t.lower_ in ("dozens", "hundreds", "thousands", "scores", "tens", "many", "numerous")
            for h in heads for t in h.subtree):
        background = True  # "thousands of soldiers have abandoned the regime": a tally, not one event
    clause_text = _clause_text(tok, label)
    when = resolve(clause_text, published) or resolve(sent.text, published, near=tok.idx - sent.span.start_char)
    if when is None and prev is not None and _CONNECTIVE.match(sent.text.strip()):
        when = resolve(prev.text, published)
    recent = when is not None and when.age_days is not None and when.age_days <= BACKGROUND_AGE_DAYS
    if tok.dep_ in ("relcl", "acl") and label in ("VERB", "MOVE") and not recent:
        main = tok.head.head
        if not (main.lemma_ in triggers.DEFECT_VERBS | triggers.MOVE_VERBS or main.lemma_ in ("say", "tell")):
            background = True
    if any(c.dep_ == "aux" and c.lower_ == "had" for c in tok.children) and when is None:
        background = True
    if "former defector" in sent.text.lower():
        background = True
    return Draft(
        mention=mention,
        sent_idx=idx,
        trigger=label,
        to=_destination(verbs),
        from_=_origin(verbs, mention),
        joined=_joined(verbs),
        when=when,
        background_cue=background,
        denied=bool(_DENIAL.search(sent.text)),
        party_cue=bool(_PARTY.search(sent.text)),
    )


_MODIFIER_CLAUSES: Final = frozenset({"relcl", "acl", "xcomp", "advcl"})
_ORDINALS: Final = frozenset({"first", "second", "third", "highest", "most", "only", "latest"})
_INTENT_VERBS: Final = frozenset({"want", "plan", "try", "threaten", "urge", "encourage", "ask", "allow",
                                  "help", "consider", "intend", "hope", "seek", "refuse", "call", "persuade",
                                  "tempt", "lure", "invite", "prepare", "decide", "attempt", "would"})


def _is_event_verb(tok: Token) -> bool:
    """False for habitual, intended or hypothetical defections ("troops who defect each day",
    "officers who want to defect", "would defect")."""
    if tok.dep_ == "xcomp" and tok.head.lemma_ in _INTENT_VERBS:
        return False
    if tok.dep_ == "ccomp" and tok.head.lemma_ in ("urge", "ask", "call"):
        return False
    aux = {c.lower_ for c in tok.children if c.dep_ in ("aux", "auxpass")}
    if aux & {"would", "could", "might", "may", "should", "will", "can", "must", "'d"}:
        return False
    return not (tok.tag_ in ("VBP", "VBZ", "VB") and not aux & {"has", "have", "had", "is", "are", "was", "were",
                                                                "did", "does", "to"})


def _merge_mentions(ms: list[Mention]) -> Mention:
    if len(ms) == 1:
        return ms[0]
    out = Mention(head=ms[0].head, anaphor=ms[0].anaphor)
    for m in ms:
        out.groups.extend(m.groups)
    main = [g for g in out.groups if not g.subset]
    if main and all(g.count is not None for g in main):
        out.total = sum(g.count or 0 for g in main)
        out.total_approx = any(g.approx for g in main)
    if out.groups:
        out.anaphor = None
    return out


def _clause_text(tok: Token, label: str) -> str:
    root = tok
    if label == "NOUN" or tok.pos_ not in ("VERB", "AUX"):
        while root.pos_ not in ("VERB", "AUX") and root.head.i != root.i:
            root = root.head
    return " ".join(t.text for t in sorted(own_clause(root), key=lambda t: t.i))


# ---- clustering the drafts of one article ----------------------------------------------------------


def _top(groups: list[Group]) -> str | None:
    ranked = [g.rank for g in groups if g.rank]
    return max(ranked, key=ranks.level) if ranked else None


def _count_ok(a: int | None, b: int | None, approx: bool) -> bool:
    if a is None or b is None:
        return True
    return a == b or (approx and abs(a - b) <= max(1, 0.2 * max(a, b)))


def _cluster(drafts: list[Draft], sents: list[_Sentence]) -> list[Cluster]:
    clusters: list[Cluster] = []
    for d in drafts:
        m = d.mention
        target: Cluster | None = None
        if m.named:
            target = next((c for c in clusters if any(names_match(n, g.name or "") for n in c.names
                                                      for g in m.named)), None)
            if target is None and m.anaphor is None and not any(g.rank for g in m.named):
                target = None
        elif m.anaphor is not None:
            want_rank = _top(m.groups)
            near = [c for c in clusters if d.sent_idx - c.last_sent <= 4]
            plural = m.anaphor == "plural"
            for c in reversed(near):
                top = _top(c.groups)
                single = len(c.groups) == 1 and c.groups[0].count == 1
                if want_rank and want_rank not in {g.rank for g in c.groups} and not (
                    want_rank in ranks.VAGUE_RANKS
                    or (top in ranks.VAGUE_RANKS and ranks.sector_of(top) == ranks.sector_of(want_rank))
                ):
                    continue
                if plural == single and want_rank is None:
                    continue
                if m.total is not None and c.first.mention.total is not None and not _count_ok(
                        c.first.mention.total, m.total, c.first.mention.total_approx):
                    continue
                target = c
                break
            if target is None and not m.groups:
                continue
        else:
            top = _top(m.groups)
            for c in clusters:
                if c.names:
                    continue
                ctop = _top(c.groups)
                ctotal = c.first.mention.total
                if top and ctop and (top == ctop or {top, ctop} <= {"senior officer", "officer"}) and _count_ok(
                    ctotal, m.total, c.first.mention.total_approx or m.total_approx
                ) and (not d.to or not c.first.to or d.to == c.first.to) and _same_time(c.first.when, d.when):
                    target = c
                    break
        if target is None:
            clusters.append(Cluster(drafts=[d], groups=list(m.groups)))
        else:
            target.drafts.append(d)
            new = m.groups
            if m.anaphor is not None and not m.named:
                # "the four officials", "the men": a reference adds no people, only a more precise rank.
                new = [g for g in new if g.rank and g.rank not in ranks.VAGUE_RANKS]
            _merge_groups(target.groups, new)
    return [c for c in clusters if c.groups]


def _compatible_rank(a: str | None, b: str | None) -> bool:
    if a is None or b is None or a == b:
        return True
    return ranks.sector_of(a) == ranks.sector_of(b) and (a in ranks.VAGUE_RANKS or b in ranks.VAGUE_RANKS)


def _name_singletons(clusters: list[Cluster], registry: list[Group], full_text: str) -> list[Cluster]:
    """"A South Sudanese military commander has defected ..." and "Lieutenant Colonel Chan Garang ...
    defected": an unnamed single defector is the article's one named defector of a compatible rank."""
    out = []
    named = [c for c in clusters if c.names]
    for c in clusters:
        single = not c.names and len([g for g in c.groups if not g.subset]) >= 1 and c.groups[0].count == 1
        if single:
            top = _top(c.groups)
            exact = [o for o in named if top and top == _top([g for g in o.groups if g.name])]
            fits = exact or [o for o in named if _compatible_rank(top, _top([g for g in o.groups if g.name]))]
            if len(fits) == 1:
                target = fits[0]
                target.drafts = sorted(target.drafts + c.drafts, key=lambda d: d.sent_idx)
                for g in c.groups[1:]:
                    if g.rank and not any(x.rank == g.rank and not x.name for x in target.groups):
                        target.groups.append(g)
                continue
        out.append(c)
    return out


def _same_time(a: When | None, b: When | None) -> bool:
    if a is None or b is None or a.age_days is None or b.age_days is None:
        return True
    return abs(a.age_days - b.age_days) <= 3


def _merge_groups(into: list[Group], new: list[Group]) -> None:
    for g in new:
        if g.name:
            same = next((x for x in into if x.name and names_match(x.name, g.name)), None)
            if same is None:
                into.append(g)
            else:
                if len(g.name) > len(same.name or ""):
                    same.name = g.name
                if ranks.level(g.rank) > ranks.level(same.rank) or same.rank is None:
                    same.rank, same.role = g.rank, g.role or same.role
            continue
        same = next((x for x in into if not x.name and x.rank == g.rank), None)
        if same is None:
            into.append(g)
        elif same.count is None or (same.approx and g.count is not None and not g.approx):
            same.count, same.approx = g.count, g.approx


def _refine_vague_ranks(clusters: list[Cluster], sents: list[_Sentence]) -> None:
    """"four high-ranking officers" in an article that counts "brigadier generals" who defected: the
    group's rank is the specific one the article uses for that kind of defector."""
    plural: Counter[str] = Counter()
    owned: dict[int, set[str]] = {}
    for c in clusters:
        for d in c.drafts:
            owned.setdefault(d.sent_idx, set()).update(g.rank for g in c.groups if g.rank)
    for i, s in enumerate(sents):
        for h in ranks.find_ranks(ranks.normalise_phrase(s.text)):
            if h.rank in owned.get(i, set()):
                continue
            if h.surface.endswith("s") and ranks.level(h.rank) >= _SENIOR_PLURAL_MIN and \
                    ranks.sector_of(h.rank) == "military":
                plural[h.rank] += 1
    if not plural:
        return
    # On a tie the more specific rank wins: a bare "generals" is any general officer.
    specific = max(plural, key=lambda r: (plural[r], r != "general"))
    for c in clusters:
        if not c.names and {g.rank for g in c.groups} == {"senior officer"} and (c.groups[0].count or 0) > 1:
            for g in c.groups:
                g.rank = specific


_DEMONYM: Final = re.compile(r"(?:an|ian|ese|ish|i|ic|ean)s?$", re.I)


def _article_country(article: Article, destinations: set[str]) -> str | None:
    """The country the article is about: demonyms ("Cuban officials") weigh double, since place names
    often say only where something happened."""
    text = f"{article.title}\n{article.text}"
    found: Counter[str] = Counter()
    for c, a, b in find_countries(text, with_regions=True):
        if c not in destinations:
            found[c] += 2 if _DEMONYM.search(text[a:b]) and text[a:b].lower() != c.lower() else 1
    return found.most_common(1)[0][0] if found else None


# ---- building the event ----------------------------------------------------------------------------


def _status(c: Cluster, article: Article, headline: bool, label_title: bool = False) -> Status:
    if any(d.denied for d in c.drafts if d.trigger in ("VERB", "NOUN", "MOVE")):
        return "denied"
    verdicts = []
    # A defection statement decides over a movement that coreference attached ("the highest-ranking
    # officer to defect ... said he had taken refuge in Turkey" is a past defection).
    statements = ([d for d in c.drafts if d.trigger in ("VERB", "NOUN")]
                  or [d for d in c.drafts if d.trigger == "MOVE"] or c.drafts)
    timed = [d for d in statements if d.when is not None and d.when.age_days is not None]
    for d in timed or statements:
        w = d.when
        age = w.age_days if w else None
        # The article's lead event is news unless its own time says otherwise; other events are context
        # when the grammar or the time says so.
        bg = d.background_cue and not headline
        if w and w.explicit_year and article.published and w.explicit_year < article.published.year - (
            1 if headline else 0
        ):
            bg = True
        if age is not None and age > (HEADLINE_AGE_DAYS if headline else BACKGROUND_AGE_DAYS):
            bg = True
        if d.trigger == "AGENT" and not headline:
            bg = True
        verdicts.append(bg)
    if not timed and article.published and _old_year_near(c, article):
        return "background"
    if label_title and not any(d.when and d.when.age_days is not None and d.when.age_days <= BACKGROUND_AGE_DAYS
                               for d in c.drafts):
        return "background"
    return "background" if all(verdicts) else "reported"


def _old_year_near(c: Cluster, article: Article) -> bool:
    """A named defector whose sentences elsewhere in the article carry a year long past (a 1976 defection
    retold in 2023)."""
    assert article.published is not None
    for n in c.names:
        sur = n.split()[-1]
        for sent in re.split(r"(?<=[.!?])\s+", article.text):
            if sur in sent:
                years = [int(y) for y in re.findall(r"\b(19\d\d|20\d\d)\b", sent)]
                if any(y <= article.published.year - 2 for y in years):
                    return True
    return False


def _confidence(c: Cluster, sents: list[_Sentence]) -> float:
    text = " ".join(sents[i].text for i in sorted({d.sent_idx for d in c.drafts}))
    score = 0.6
    if c.names:
        score += 0.1
    score -= 0.12 * min(2, len(_HEDGES.findall(text)))
    score += 0.1 * min(2, len(_CONFIRM.findall(text)))
    score += 0.05 * min(3, len(c.drafts) - 1)
    return round(max(0.05, min(0.98, score)), 2)


def _sector(c: Cluster, top: str | None) -> Sector:
    sector: Sector = ranks.sector_of(top) or "other"
    if top in ("member of parliament", "minister", "official", "deputy minister") and any(
        d.party_cue for d in c.drafts
    ):
        return "party"
    if top == "member of parliament" and any(
        d.joined and not re.search(r"rebel|opposition|revolt", d.joined, re.I) for d in c.drafts
    ):
        return "party"
    return sector


def _event(c: Cluster, sents: list[_Sentence], article: Article, fallback_from: str | None,
           title_news: bool, label_title: bool = False) -> DefectionEvent | None:
    groups = [g for g in c.groups if g.rank or g.name]
    if not groups:
        return None
    top = _top(groups)
    first = next((d for d in c.drafts if d.mention.anaphor is None), c.first)
    to = next((d.to for d in c.drafts if d.to), None)
    origin = next((d.from_ for d in c.drafts if d.from_), None) or fallback_from
    if origin == to:
        origin = fallback_from if fallback_from != to else None
    sector = _sector(c, top)
    if (top in (None, "other")) and origin is None and to is None:
        return None
    # Athletes and artists count only with a country in view ("the Cuban boxer", "sought asylum in
    # Spain", "... Cuban sports officials said"); golfers moving to a rival tour do not.
    explicit = any(d.from_ or d.to for d in c.drafts) or any(g.country for g in groups) or any(
        find_countries(sents[d.sent_idx].text) for d in c.drafts)
    if top in (None, "other") and not explicit and not c.names:
        return None
    for g in groups:
        if g.name and g.rank is None:
            g.rank = "other"
    top = top or ("other" if c.names else None)
    totals = [(d.mention.total, d.mention.total_approx) for d in c.drafts if d.mention.total is not None]
    exact = Counter(t for t, approx in totals if not approx)
    count: int | None
    if exact:
        count = exact.most_common(1)[0][0]
    elif totals:
        count = totals[0][0]
    elif all(g.count is not None for g in groups if not g.subset):
        count = sum(g.count or 0 for g in groups if not g.subset) or None
    else:
        count = None
    when = next((d.when for d in c.drafts if d.when and d.when.date), None)
    status = _status(c, article, title_news, label_title)
    sent = sents[first.sent_idx]
    start = sent.offset + sent.span.start_char
    raw = article.text[start : sent.offset + sent.span.end_char]
    evidence = raw.strip()
    start += len(raw) - len(raw.lstrip())
    defectors = []
    for g in groups:
        if g.subset and g.count is None:
            continue
        defectors.append(Defector(name=g.name, rank=g.rank, role=g.role, count=max(1, g.count or 1),
                                  rank_code=ranks.code(g.rank)))
    return DefectionEvent(
        status=status,
        sector=sector,
        defectors=defectors,
        count=count,
        from_=origin,
        to=to,
        joined=next((d.joined for d in c.drafts if d.joined), None),
        date=when.date if when else None,
        evidence=evidence,
        evidence_start=start,
        evidence_end=start + len(evidence),
        confidence=_confidence(c, sents),
        seniority=ranks.seniority(top),
        rank_code=ranks.code(top),
        sources=[Source(article_id=article.id, url=article.url, source=article.source, title=article.title or None,
                        published=article.published, evidence=evidence)],
    )
