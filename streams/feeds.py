"""Polling RSS/Atom feeds: bounded downloads, conditional GET, per-feed exponential backoff."""

from __future__ import annotations

import hashlib
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import feedparser

from extractors import Article
from streams.inputs import InputError, html_to_text, parse_article
from streams.metrics import Metrics

MAX_FEED_BYTES = 5 * 1024 * 1024
USER_AGENT = "defwatch/0.1 (+news monitoring; polite polling)"


@dataclass
class FeedState:
    url: str
    etag: str | None = None
    modified: str | None = None
    next_poll: float = 0.0
    failures: int = 0
    last_error: str | None = None
    last_success: float | None = None
    items_seen: int = 0
    seen_ids: set[str] = field(default_factory=set)


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
        with urllib.request.urlopen(req, timeout=timeout) as resp:
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


def entries_to_articles(url: str, body: bytes) -> list[Article | InputError]:
    parsed = feedparser.parse(body)
    if parsed.bozo and not parsed.entries:
        raise ValueError(f"not a feed ({type(parsed.bozo_exception).__name__})")
    out: list[Article | InputError] = []
    host = urlsplit(url).hostname or None
    for e in parsed.entries:
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
        aid = "feed-" + hashlib.sha1((link or e.get("id") or text).encode()).hexdigest()[:16]
        out.append(parse_article({"id": aid, "url": link or None, "title": e.get("title") or "",
                                  "published": published, "source": urlsplit(link).hostname if link else host,
                                  "text": text}, f"{url} item {aid}"))
    return out


class FeedPoller:
    """Polls each feed when due; a failing feed is reported in one line and backed off (30 s doubling
    up to an hour, with jitter); it never raises."""

    def __init__(self, urls: list[str], interval: float, timeout: float,
                 log: Callable[[str], None], clock: Callable[[], float] = time.monotonic,
                 metrics: Metrics | None = None) -> None:
        self.feeds = [FeedState(u) for u in urls]
        self.metrics = metrics
        self.interval = interval
        self.timeout = timeout
        self.log = log
        self.clock = clock

    def poll_due(self) -> list[Article | InputError]:
        out: list[Article | InputError] = []
        for st in self.feeds:
            now = self.clock()
            if now < st.next_poll:
                continue
            try:
                body = _fetch(st, self.timeout)
                items = [] if body is None else entries_to_articles(st.url, body)
            except Exception as exc:  # any network or parse failure: report, back off, carry on
                st.failures += 1
                st.last_error = f"{type(exc).__name__}: {exc}"[:200]
                backoff = min(3600.0, 30.0 * 2 ** (st.failures - 1)) * random.uniform(0.8, 1.2)
                st.next_poll = now + backoff
                self.log(f"feed {st.url}: unreachable ({st.last_error}); retrying in {backoff:.0f}s")
                if self.metrics:
                    self.metrics.feed_errors.labels(feed=st.url).inc()
                continue
            st.failures, st.last_error, st.last_success = 0, None, now
            if self.metrics:
                self.metrics.feed_success.labels(feed=st.url).set(time.time())
                self.metrics.feed_items.labels(feed=st.url).inc(len(items))
            st.next_poll = now + self.interval
            for it in items:
                key = it.id if isinstance(it, Article) else it.ref
                if key not in st.seen_ids:
                    st.seen_ids.add(key)
                    st.items_seen += 1
                    out.append(it)
        return out
