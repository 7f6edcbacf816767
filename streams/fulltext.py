"""Fetching an article page for its full text, politely and defensively.

* Size limit (``max_bytes``): a larger page is abandoned, not truncated into half an article.
* Time limit per request (connect and each read) and for the whole fetch (``deadline``).
* Redirects are followed by hand (at most ``MAX_REDIRECTS``), each hop's host resolved and checked: a
  redirect to a loopback, private, link-local or otherwise non-public address is refused (hosts named in
  ``allow_hosts`` excepted, for feeds on a private network). The first URL is checked the same way.
* The text comes from trafilatura (boilerplate removed); ``None`` when the page cannot be fetched or
  has no article in it, and the caller keeps the feed's summary.
"""

from __future__ import annotations

import http.client
import time
import urllib.parse
from collections.abc import Collection
from dataclasses import dataclass

from streams.netguard import PinnedHTTP, PinnedHTTPS, Refused, resolve

MAX_REDIRECTS = 5
USER_AGENT = "defwatch/0.1 (+news monitoring; polite fetching)"


class FetchError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Page:
    url: str
    """The final URL, after redirects."""
    html: str


def fetch(url: str, timeout: float = 10.0, max_bytes: int = 5 * 1024 * 1024,
          allow_hosts: Collection[str] = (), deadline: float | None = None) -> Page:
    """GET ``url`` (HTML only), following checked redirects; raises ``FetchError`` or ``Refused``."""
    end = time.monotonic() + (deadline if deadline is not None else 3 * timeout)
    for _ in range(MAX_REDIRECTS + 1):
        parts = urllib.parse.urlsplit(url)
        host, port, address = resolve(url, allow_private=(parts.hostname or "") in allow_hosts)
        conn_cls = PinnedHTTPS if parts.scheme == "https" else PinnedHTTP
        left = end - time.monotonic()
        if left <= 0:
            raise FetchError(f"{url}: gave up after the overall time limit")
        conn = conn_cls(host, port, address, min(timeout, left))
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            conn.request("GET", path, headers={"User-Agent": USER_AGENT, "Accept": "text/html,application/xhtml+xml",
                                               "Accept-Encoding": "identity"})
            resp = conn.getresponse()
            if resp.status in (301, 302, 303, 307, 308):
                location = resp.getheader("Location")
                if not location:
                    raise FetchError(f"{url}: redirect without a Location")
                url = urllib.parse.urljoin(url, location)
                continue
            if resp.status != 200:
                raise FetchError(f"{url}: HTTP {resp.status}")
            ctype = (resp.getheader("Content-Type") or "").lower()
            if ctype and "html" not in ctype and "xml" not in ctype:
                raise FetchError(f"{url}: not a web page ({ctype[:60]})")
            declared = resp.getheader("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise FetchError(f"{url}: page of {int(declared):,} bytes is over the {max_bytes:,}-byte limit")
            chunks, size = [], 0
            while chunk := resp.read(65536):
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError(f"{url}: page over the {max_bytes:,}-byte limit")
                if time.monotonic() > end:
                    raise FetchError(f"{url}: gave up after the overall time limit")
                chunks.append(chunk)
            charset = resp.headers.get_content_charset() or "utf-8"
            return Page(url, b"".join(chunks).decode(charset, errors="replace"))
        except (OSError, http.client.HTTPException) as exc:
            raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from exc
        finally:
            conn.close()
    raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects")


def article_text(html: str) -> str | None:
    """The article's text without navigation and boilerplate, or None."""
    import trafilatura  # heavy (lxml, language data): loaded on the first page, not with the command line

    text = trafilatura.extract(html, include_comments=False, include_tables=False, favor_precision=True)
    return text.strip() if text and text.strip() else None


def full_text(url: str, timeout: float = 10.0, max_bytes: int = 5 * 1024 * 1024,
              allow_hosts: Collection[str] = ()) -> tuple[str | None, str | None]:
    """(text, problem): the page's article text, or None and why not."""
    try:
        page = fetch(url, timeout=timeout, max_bytes=max_bytes, allow_hosts=allow_hosts)
    except (FetchError, Refused) as exc:
        return None, str(exc)
    text = article_text(page.html)
    return (text, None) if text else (None, f"{url}: no article text on the page")
