"""Polling RSS/Atom feeds: the feeds file, bounded downloads, conditional GET (ETag, Last-Modified),
per-feed intervals and exponential backoff with jitter, a health record per feed (exposed as metrics),
and the full text of items that carry only a summary."""

from __future__ import annotations

import hashlib
import random
import time
import tomllib
import urllib.error
import urllib.request
import xml.sax
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import feedparser
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from extractors import Article
from streams.fulltext import full_text
from streams.inputs import InputError, describe, html_to_text, parse_article
from streams.metrics import Metrics
from streams.settings import Settings
from streams.urls import canonical_url

MAX_FEED_BYTES = 5 * 1024 * 1024
USER_AGENT = "defwatch/0.1 (+news monitoring; polite polling)"
SHORT_SUMMARY_CHARS = 1200
"""An item whose text is shorter than this is taken for a summary (``fulltext = "auto"``)."""


class FeedsError(ValueError):
    pass


class FeedConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(pattern=r"^https?://", max_length=2048)
    name: str | None = Field(default=None, max_length=64)
    interval: float | None = Field(default=None, ge=10, le=86400)
    fulltext: Literal["auto", "always", "never"] = "auto"

    @property
    def label(self) -> str:
        return self.name or urlsplit(self.url).hostname or self.url


class FeedsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    feeds: list[FeedConfig] = Field(default_factory=list)


def load_feeds(settings: Settings) -> list[FeedConfig]:
    """``DEFWATCH_FEEDS`` (URLs) when set, else the feeds file."""
    if settings.feeds is not None:
        return [FeedConfig(url=u) for u in settings.feeds]
    return read_feeds_file(settings.feeds_file)


def read_feeds_file(path: Path) -> list[FeedConfig]:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        return FeedsFile.model_validate(raw).feeds
    except OSError as exc:
        raise FeedsError(f"cannot read the feeds file {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise FeedsError(f"{path}: not valid TOML: {exc}") from exc
    except ValidationError as exc:
        raise FeedsError(f"{path}: {describe(exc)}") from exc


@dataclass
class FeedState:
    """The health record of one feed."""

    config: FeedConfig
    etag: str | None = None
    modified: str | None = None
    next_poll: float = 0.0
    failures: int = 0
    last_error: str | None = None
    last_success: float | None = None
    """Wall-clock time of the last successful poll."""
    items_seen: int = 0
    seen_ids: set[str] = field(default_factory=set)

    @property
    def url(self) -> str:
        return self.config.url


def _fetch(state: FeedState, timeout: float) -> bytes | None:
    scheme = urlsplit(state.url).scheme
    if scheme not in ("http", "https"):
        raise ValueError(f"unsupported URL scheme {scheme!r}")
    req = urllib.request.Request(state.url, headers={"User-Agent": USER_AGENT})
    if state.etag:
        req.add_header("If-None-Match", state.etag)
    if state.modified:
        req.add_header("If-Modified-Since", state.modified)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # feeds are configured, not untrusted input
            body: bytes = resp.read(MAX_FEED_BYTES + 1)
            if len(body) > MAX_FEED_BYTES:
                raise ValueError(f"feed larger than {MAX_FEED_BYTES:,} bytes")
            state.etag = resp.headers.get("ETag") or state.etag
            state.modified = resp.headers.get("Last-Modified") or state.modified
            return body
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return None
        raise


@dataclass(frozen=True, slots=True)
class Item:
    """A feed entry before full text: the record for ``parse_article`` and whether it is a summary."""

    record: dict[str, object]
    ref: str
    summary_only: bool


def entries(url: str, body: bytes) -> list[Item]:
    parsed = feedparser.parse(body)
    found = list(parsed.entries)
    if parsed.bozo and isinstance(parsed.bozo_exception, xml.sax.SAXException):
        # malformed XML (often a truncated download): keep only the entries that came through whole
        found = [e for e in found if e.get("link") and (e.get("summary") or e.get("content"))]
        if not found:
            raise ValueError(f"not a feed (malformed XML: {str(parsed.bozo_exception)[:120]})")
    if parsed.bozo and not found:
        raise ValueError(f"not a feed ({type(parsed.bozo_exception).__name__})")
    out: list[Item] = []
    host = urlsplit(url).hostname or None
    for e in found:
        link = e.get("link") or ""
        raw_text = e.get("summary") or ""
        contents = e.get("content") or []
        if contents:
            raw_text = max((c.get("value", "") for c in contents), key=len)
        _, text = html_to_text(raw_text)
        published = None
        for key in ("published", "updated"):
            if e.get(key):
                try:
                    published = parsedate_to_datetime(e[key]).date().isoformat()
                    break
                except (TypeError, ValueError):
                    continue
        try:
            basis = canonical_url(link) if link else (e.get("id") or text)
        except ValueError:
            basis = e.get("id") or link or text
        aid = "feed-" + hashlib.sha1(basis.encode()).hexdigest()[:16]
        record: dict[str, object] = {
            "id": aid, "url": link or None, "title": e.get("title") or "", "published": published,
            "source": urlsplit(link).hostname if link else host, "text": text}
        out.append(Item(record, f"{url} item {aid}", summary_only=not contents and len(text) < SHORT_SUMMARY_CHARS))
    return out


class FeedPoller:
    """Polls each feed when due; a failing feed is reported in one line and backed off (30 s doubling
    up to an hour, with jitter); it never raises. New items that carry only a summary get the full text
    of their page (``fulltext``), fetched a few at a time; the summary stays when the page cannot be had."""

    def __init__(self, feeds: list[FeedConfig], interval: float, timeout: float,
                 log: Callable[[str], None], clock: Callable[[], float] = time.monotonic,
                 metrics: Metrics | None = None, allow_hosts: list[str] | None = None,
                 page_max_bytes: int = 5 * 1024 * 1024, fetchers: int = 4) -> None:
        self.feeds = [FeedState(f) for f in feeds]
        self.interval = interval
        self.timeout = timeout
        self.log = log
        self.clock = clock
        self.metrics = metrics
        self.allow_hosts = allow_hosts or []
        self.page_max_bytes = page_max_bytes
        self.fetchers = fetchers

    @classmethod
    def from_settings(cls, settings: Settings, log: Callable[[str], None],
                      metrics: Metrics | None = None) -> FeedPoller:
        return cls(load_feeds(settings), settings.poll_interval, settings.fetch_timeout, log, metrics=metrics,
                   allow_hosts=settings.fetch_allow_hosts, page_max_bytes=settings.page_max_bytes)

    def poll_due(self) -> list[Article | InputError]:
        out: list[Article | InputError] = []
        for st in self.feeds:
            now = self.clock()
            if now < st.next_poll:
                continue
            label = st.config.label
            try:
                body = _fetch(st, self.timeout)
                items = [] if body is None else entries(st.url, body)
            except Exception as exc:  # any network or parse failure: report, back off, carry on
                st.failures += 1
                st.last_error = f"{type(exc).__name__}: {exc}"[:200]
                backoff = min(3600.0, 30.0 * 2 ** (st.failures - 1)) * random.uniform(0.8, 1.2)
                st.next_poll = now + backoff
                self.log(f"feed {label}: unreachable ({st.last_error}); retrying in {backoff:.0f}s")
                if self.metrics:
                    self.metrics.feed_errors.labels(feed=label).inc()
                    self.metrics.feed_failures.labels(feed=label).set(st.failures)
                continue
            st.failures, st.last_error, st.last_success = 0, None, time.time()
            st.next_poll = now + (st.config.interval or self.interval)
            fresh = [it for it in items if it.record["id"] not in st.seen_ids]
            st.seen_ids.update(str(it.record["id"]) for it in fresh)
            st.items_seen += len(fresh)
            out.extend(self._with_full_text(st.config, fresh))
            if self.metrics:
                self.metrics.feed_success.labels(feed=label).set(st.last_success)
                self.metrics.feed_items.labels(feed=label).inc(len(fresh))
                self.metrics.feed_failures.labels(feed=label).set(0)
        return out

    def _with_full_text(self, config: FeedConfig, items: list[Item]) -> list[Article | InputError]:
        wanted = [it for it in items if it.record.get("url") and (
            config.fulltext == "always" or (config.fulltext == "auto" and it.summary_only))]
        if wanted:
            with ThreadPoolExecutor(max_workers=self.fetchers, thread_name_prefix="defwatch-page") as pool:
                results = list(pool.map(lambda it: full_text(str(it.record["url"]), self.timeout,
                                                             self.page_max_bytes, self.allow_hosts), wanted))
            for it, (text, problem) in zip(wanted, results, strict=True):
                if text and len(text) > len(str(it.record["text"])):
                    it.record["text"] = text
                elif problem:
                    self.log(f"feed {config.label}: keeping the summary ({problem[:200]})")
        return [parse_article(it.record, it.ref) for it in items]
