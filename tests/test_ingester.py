import datetime as dt
from pathlib import Path

import pytest

from extractors import Article
from streams.ingester import Ingester
from streams.urls import canonical_url

STORY = ("BEIRUT - Two Syrian army colonels defected to Turkey on Monday, officials said, the latest in a "
         "string of senior officers to abandon the government in Damascus. The officers crossed the border with "
         "their families near the town of Reyhanli and were taken to a camp for defectors, a Turkish official "
         "said. Syria has not commented on the report. Hundreds of soldiers have deserted since the uprising "
         "began, and the opposition says thousands more are waiting for a chance to leave their units.")
EDITED = STORY.replace("BEIRUT", "ANKARA").replace("a Turkish official said", "a Turkish official said on "
                                                    "condition of anonymity").replace(" on the report", "")
OTHER = ("Heavy rain fell across the capital on Monday and roads were closed for several hours while crews "
         "cleared fallen trees. The weather service said more storms were expected later in the week, and "
         "schools in the northern districts will stay closed on Tuesday as a precaution, officials said. "
         "Residents were asked to stay at home where possible and to report damaged power lines.")


def art(aid: str, url: str | None, text: str) -> Article:
    return Article(id=aid, url=url, text=text, source=url.split("/")[2] if url else None)


@pytest.mark.parametrize(("url", "want"), [
    ("https://www.Example.com/world/story/?utm_source=rss&utm_medium=feed#top", "https://example.com/world/story"),
    ("http://example.com:80/world/story?id=7&fbclid=abc&b=2", "https://example.com/world/story?b=2&id=7"),
    ("https://m.example.com//world//story/amp", "https://example.com/world/story"),
    ("https://example.com:8443/x", "https://example.com:8443/x"),
])
def test_canonical_urls(url: str, want: str) -> None:
    assert canonical_url(url) == want


def test_canonical_url_refuses_other_schemes() -> None:
    with pytest.raises(ValueError, match="not an http"):
        canonical_url("javascript:alert(1)")


def test_same_url_with_tracking_is_a_duplicate_and_wire_copies_are_linked(tmp_path: Path) -> None:
    ing = Ingester(tmp_path / "i.sqlite3")
    first = ing.decide(art("a", "https://a.example/story", STORY))
    assert first.verdict == "new"
    again = ing.decide(art("a2", "https://www.a.example/story?utm_source=rss", STORY))
    assert (again.verdict, again.of) == ("duplicate", "a")
    same_text = ing.decide(art("b", "https://b.example/wire/123", STORY))
    assert (same_text.verdict, same_text.article.copy_of) == ("copy", "a")
    edited = ing.decide(art("c", "https://c.example/news/9", EDITED))
    assert (edited.verdict, edited.article.copy_of) == ("copy", "a") and 0.5 <= edited.similarity < 1
    assert ing.decide(art("d", "https://d.example/weather", OTHER)).verdict == "new"


def test_state_survives_a_restart_and_the_window_expires(tmp_path: Path) -> None:
    t0 = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
    Ingester(tmp_path / "i.sqlite3").decide(art("a", "https://a.example/story", STORY), now=t0)
    ing = Ingester(tmp_path / "i.sqlite3", window_days=3)
    assert ing.decide(art("c", "https://c.example/news/9", EDITED), now=t0 + dt.timedelta(days=1)).verdict == "copy"
    later = ing.decide(art("e", "https://e.example/x", EDITED + " Updated."), now=t0 + dt.timedelta(days=10))
    assert later.verdict == "new"  # the first copy left the window
    assert ing.expire(now=t0 + dt.timedelta(days=10)) > 0
