"""The boundary models: an article in, defection events out.

Field names follow ``shared/corpus/FORMAT.md`` (the predictions format); everything a user needs
beyond it (offsets, rank codes, sources, corroboration, first/last seen) is added alongside.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Status = Literal["reported", "background", "denied"]
Sector = Literal["military", "security", "intelligence", "government", "diplomatic", "party", "other"]

MAX_TEXT_CHARS = 200_000
"""Longest article text accepted (about 30,000 words); longer bodies are refused, not cut."""


class ArticleError(ValueError):
    """An article that cannot be processed; the message names the article and the problem."""

    def __init__(self, article_id: str | None, problem: str) -> None:
        self.article_id = article_id or "?"
        self.problem = problem
        super().__init__(f"article {self.article_id}: {problem}")


class Article(BaseModel):
    """One news article (a corpus line, a feed item, a pushed document)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)

    id: str = Field(min_length=1, max_length=512)
    url: str | None = Field(default=None, max_length=4096)
    title: str = Field(default="", max_length=2000)
    published: dt.date | None = None
    source: str | None = Field(default=None, max_length=512)
    text: str = Field(max_length=MAX_TEXT_CHARS)
    copy_of: str | None = Field(default=None, max_length=512)
    """Set by the ingester on a wire copy: the id of the first copy, whose events this article also
    reports (it is not extracted again; its outlet is added as a source)."""

    @field_validator("text")
    @classmethod
    def _text_has_words(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text is empty")
        return value

    @field_validator("title", mode="before")
    @classmethod
    def _title_none_is_empty(cls, value: object) -> object:
        return "" if value is None else value


class Defector(BaseModel):
    """A named person, or an unnamed group of one rank."""

    name: str | None = None
    rank: str | None = None
    role: str | None = None
    count: int = Field(default=1, ge=1)
    rank_code: str | None = None
    """NATO OF/OR code for military ranks (OF-6 = brigadier general), CIV-n tier for civil titles."""


class Source(BaseModel):
    """One article that reported an event."""

    article_id: str
    url: str | None = None
    source: str | None = None
    title: str | None = None
    published: dt.date | None = None
    evidence: str | None = None


class DefectionEvent(BaseModel):
    """One defection, as reported by one or more articles."""

    model_config = ConfigDict(populate_by_name=True)

    event_id: str = ""
    status: Status = "reported"
    sector: Sector = "military"
    defectors: list[Defector] = Field(default_factory=list)
    count: int | None = None
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    joined: str | None = None
    date: dt.date | None = None
    evidence: str = ""
    evidence_start: int | None = None
    evidence_end: int | None = None
    confidence: float = Field(default=0.5, ge=0.0, le=1.0)
    seniority: float = Field(default=0.0, ge=0.0, le=1.0)
    rank_code: str | None = None
    sources: list[Source] = Field(default_factory=list)
    corroboration: int = 1
    first_seen: dt.datetime | None = None
    last_seen: dt.datetime | None = None
    merged_into: str | None = None
    """Set on a canonical event that a later report joined into another one (its document goes)."""

    def to_json_dict(self) -> dict[str, object]:
        """The predictions-format dict (``from`` spelled as in FORMAT.md)."""
        return self.model_dump(mode="json", by_alias=True)


class ArticleResult(BaseModel):
    """One output line: an article id and the events found in it."""

    id: str
    events: list[DefectionEvent] = Field(default_factory=list)
    error: str | None = None
