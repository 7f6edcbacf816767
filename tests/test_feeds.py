"""Feed polling and full-text fetching against a real local HTTP server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from extractors import Article, Extractor
from streams.embedded import EmbeddedRunner
from streams.feeds import FeedConfig, FeedPoller, FeedsError, read_feeds_file
from streams.fulltext import full_text
from streams.inputs import InputError
from streams.metrics import Metrics
from streams.settings import Settings

from .test_ingester import EDITED, STORY
from .webserver import WebServer

RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>http://x/</link>
<description>d</description>{items}</channel></rss>"""
RSS_ITEM = """<item><title>{title}</title><link>{link}</link><guid>{guid}</guid>
<pubDate>Tue, 05 Mar 2024 10:00:00 GMT</pubDate><description>{text}</description></item>"""
ATOM = """<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<id>urn:t</id><updated>2024-03-05T10:00:00Z</updated>
<entry><title>Atom story</title><link href="{link}"/><id>urn:1</id><updated>2024-03-05T10:00:00Z</updated>
<content type="html">{text}</content></entry></feed>"""
PAGE = """<html><head><title>x</title></head><body><nav>Home | World | Sport</nav><article><h1>Colonels defect</h1>
<p>{text}</p></article><footer>Copyright</footer></body></html>"""
LONG = STORY + " " + STORY.replace("Monday", "Sunday")


@pytest.fixture()
def web() -> Iterator[WebServer]:
    w = WebServer()
    yield w
    w.close()


def ok(body: str | bytes, ctype: str = "application/rss+xml", **headers: str) -> tuple[int, dict[str, str], bytes]:
    return 200, {"Content-Type": ctype, **headers}, body.encode() if isinstance(body, str) else body


def poller(feeds: list[FeedConfig], metrics: Metrics | None = None, timeout: float = 2.0,
           logs: list[str] | None = None) -> FeedPoller:
    clock = [0.0]
    p = FeedPoller(feeds, 300, timeout, (logs if logs is not None else []).append, clock=lambda: clock[0],
                   metrics=metrics, allow_hosts=["127.0.0.1"], page_max_bytes=1024 * 1024)
    p.advance = lambda s: clock.__setitem__(0, clock[0] + s)  # type: ignore[attr-defined]
    return p


def arts(items: list[Article | InputError]) -> list[Article]:
    assert all(isinstance(i, Article) for i in items), items
    return [i for i in items if isinstance(i, Article)]


def test_rss_and_atom_items_become_articles_with_full_text(web: WebServer) -> None:
    web.routes["/page"] = lambda r: ok(PAGE.format(text=LONG), "text/html; charset=utf-8")
    web.routes["/rss"] = lambda r: ok(RSS.format(items=RSS_ITEM.format(
        title="Colonels defect", link=web.url("/page?utm_source=rss"), guid="1", text="Short summary.")))
    web.routes["/atom"] = lambda r: ok(ATOM.format(link=web.url("/atom-story"), text=LONG), "application/atom+xml")
    got = arts(poller([FeedConfig(url=web.url("/rss")), FeedConfig(url=web.url("/atom"))]).poll_due())
    rss, atom = got
    assert rss.title == "Colonels defect" and "Reyhanli" in rss.text and "Home | World" not in rss.text
    assert str(rss.published) == "2024-03-05"
    assert atom.title == "Atom story" and "Reyhanli" in atom.text and web.hits.get("/atom-story") is None


def test_conditional_get_and_304(web: WebServer) -> None:
    seen: list[str | None] = []

    def feed(r: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        seen.append(r.headers.get("If-None-Match"))
        if r.headers.get("If-None-Match") == '"v1"':
            return 304, {}, b""
        return ok(RSS.format(items=RSS_ITEM.format(title="a", link="https://n.example/a", guid="a", text=LONG)),
                  ETag='"v1"', **{"Last-Modified": "Tue, 05 Mar 2024 10:00:00 GMT"})

    web.routes["/rss"] = feed
    p = poller([FeedConfig(url=web.url("/rss"), interval=60, fulltext="never")])
    assert len(p.poll_due()) == 1
    p.advance(61)  # type: ignore[attr-defined]
    assert p.poll_due() == [] and seen == [None, '"v1"'] and p.feeds[0].failures == 0


def test_broken_xml_then_500_then_recovery(web: WebServer) -> None:
    answers = iter([ok("<rss><channel><item><title>oops"), (500, {}, b"boom"),
                    ok(RSS.format(items=RSS_ITEM.format(title="a", link="https://n.example/a", guid="a", text=LONG)))])
    web.routes["/rss"] = lambda r: next(answers)
    metrics, logs = Metrics(), []
    p = poller([FeedConfig(url=web.url("/rss"), name="flaky", fulltext="never")], metrics, logs=logs)
    assert p.poll_due() == [] and "not a feed" in logs[-1]
    p.advance(3600)  # type: ignore[attr-defined]
    assert p.poll_due() == [] and "500" in logs[-1] and p.feeds[0].failures == 2
    assert metrics.feed_failures.labels(feed="flaky")._value.get() == 2
    p.advance(3 * 3600)  # type: ignore[attr-defined]
    assert len(p.poll_due()) == 1 and p.feeds[0].failures == 0 and p.feeds[0].last_error is None
    assert metrics.feed_errors.labels(feed="flaky")._value.get() == 2
    assert metrics.feed_success.labels(feed="flaky")._value.get() > 0


def test_a_slow_feed_times_out_and_is_backed_off(web: WebServer) -> None:
    def slow(r: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        time.sleep(3)
        return ok(RSS.format(items=""))

    web.routes["/rss"] = slow
    logs: list[str] = []
    p = poller([FeedConfig(url=web.url("/rss"))], timeout=0.5, logs=logs)
    assert p.poll_due() == [] and "timed out" in logs[-1] and p.feeds[0].next_poll >= 24


def test_a_huge_page_keeps_the_summary(web: WebServer) -> None:
    web.routes["/huge"] = lambda r: ok(b"<html><body>" + b"x" * (20 * 1024 * 1024) + b"</body></html>", "text/html")
    text, problem = full_text(web.url("/huge"), timeout=5, max_bytes=1024 * 1024, allow_hosts=["127.0.0.1"])
    assert text is None and problem and "limit" in problem
    web.routes["/rss"] = lambda r: ok(RSS.format(items=RSS_ITEM.format(
        title="t", link=web.url("/huge"), guid="h", text="The summary stays.")))
    logs: list[str] = []
    [a] = arts(poller([FeedConfig(url=web.url("/rss"))], logs=logs).poll_due())
    assert a.text == "The summary stays." and any("keeping the summary" in m for m in logs)


@pytest.mark.parametrize("target", ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/x",
                                    "http://localhost:1/x", "http://[::1]:1/x"])
def test_redirects_to_private_addresses_are_refused(web: WebServer, target: str) -> None:
    web.routes["/moved"] = lambda r: (302, {"Location": target}, b"")
    text, problem = full_text(web.url("/moved"), timeout=2, allow_hosts=["127.0.0.1"])
    assert text is None and problem and ("loopback" in problem or "private" in problem or "link-local" in problem)


def test_the_first_url_is_checked_too() -> None:
    text, problem = full_text("http://127.0.0.1:9/page", timeout=1)
    assert text is None and problem and "loopback" in problem


def test_feeds_file_errors_are_clear(tmp_path: Path) -> None:
    bad = tmp_path / "feeds.toml"
    bad.write_text('[[feeds]]\nurl = "ftp://x"\n')
    with pytest.raises(FeedsError, match="url"):
        read_feeds_file(bad)
    bad.write_text('[[feeds]]\nurl = "https://x.example/rss"\nevery = 5\n')
    with pytest.raises(FeedsError, match="every"):
        read_feeds_file(bad)


def test_one_story_three_urls_and_a_wire_copy_is_extracted_once_with_three_sources(
        web: WebServer, tmp_path: Path, extractor: Extractor) -> None:
    items = [
        RSS_ITEM.format(title="Colonels defect", link="https://a.example/story", guid="1", text=STORY),
        RSS_ITEM.format(title="Colonels defect", link="https://www.a.example/story/?utm_source=rss", guid="2",
                        text=STORY),
        RSS_ITEM.format(title="Colonels defect", link="http://a.example/story#comments", guid="3", text=STORY),
        RSS_ITEM.format(title="Syrian officers flee to Turkey", link="https://b.example/wire/1", guid="4", text=EDITED),
        RSS_ITEM.format(title="Officers defect", link="https://c.example/world/2", guid="5", text=STORY),
    ]
    web.routes["/rss"] = lambda r: ok(RSS.format(items="".join(items)))
    settings = Settings(data_dir=tmp_path, feeds=[web.url("/rss")], metrics_port=0)
    runner = EmbeddedRunner(settings, extractor=extractor, log=lambda m: None)
    calls: list[int] = []
    original = runner.extractor.extract_gated

    def counting(articles):  # type: ignore[no-untyped-def]
        for a, r, passed in original(articles):
            calls.append(1)
            yield a, r, passed

    runner.extractor.extract_gated = counting  # type: ignore[method-assign]
    runner.run(once=True, sample=False)
    store = runner.store.__class__(settings.store_path)
    events = store.events()
    assert len(calls) == 1 and events  # extracted once
    for event in events:  # the colonels (and the background mention of deserters): three outlets each
        assert {s.source for s in event.sources} == {"a.example", "b.example", "c.example"}
        assert event.corroboration == 3
    counts = store.counts()
    assert counts["articles"] == 3
    samples = {s.labels["outcome"]: s.value for m in runner.metrics.registry.collect()
               if m.name == "defwatch_articles_ingested" for s in m.samples if s.name.endswith("_total")}
    assert samples.get("duplicate", 0) >= 1 and samples.get("copy", 0) >= 1
