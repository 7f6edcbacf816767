"""What travels on the topics: articles, reports, canonical events and dead letters, as JSON bytes.

Decoding is where untrusted bytes become typed objects; anything that does not decode becomes a
``DeadLetter`` with the reason and the original payload."""

from __future__ import annotations

import base64
import datetime as dt
import json

from pydantic import BaseModel

from extractors import Article, DefectionEvent
from streams.inputs import MAX_LINE_BYTES, InputError, parse_article


class DeadLetter(BaseModel):
    source: str
    """Where the payload came from: a topic name, a file and line, a feed."""
    reason: str
    payload: str
    payload_encoding: str = "utf-8"
    key: str | None = None
    at: dt.datetime

    @classmethod
    def of(cls, source: str, reason: str, payload: bytes | str | None, key: bytes | str | None = None) -> DeadLetter:
        raw = payload.encode("utf-8", "replace") if isinstance(payload, str) else (payload or b"")
        raw = raw[:65_536]
        try:
            text, enc = raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, enc = base64.b64encode(raw).decode("ascii"), "base64"
        k = key.decode("utf-8", "replace") if isinstance(key, bytes) else key
        return cls(source=source, reason=reason, payload=text, payload_encoding=enc, key=k,
                   at=dt.datetime.now(dt.UTC))

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()


def article_bytes(article: Article) -> bytes:
    return article.model_dump_json().encode()


def article_key(article: Article) -> bytes:
    """The partition key: the article's id, or for a copy the first copy's id, so a copy is read after
    its original by the same worker (which holds the original's reports)."""
    return (article.copy_of or article.id).encode()


def decode_article(raw: bytes | None, source: str) -> Article | InputError:
    """An article from a message value, or the reason it is not one."""
    if raw is None:
        return InputError(source, "empty message")
    if len(raw) > MAX_LINE_BYTES:
        return InputError(source, f"message is {len(raw):,} bytes, over the {MAX_LINE_BYTES:,}-byte limit")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return InputError(source, f"not UTF-8 ({exc.reason} at byte {exc.start})")
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        return InputError(source, f"not JSON ({exc.msg} at column {exc.colno})")
    return parse_article(record, source)


def event_bytes(event: DefectionEvent) -> bytes:
    return event.model_dump_json(by_alias=True).encode()


def decode_event(raw: bytes) -> DefectionEvent:
    return DefectionEvent.model_validate_json(raw)
