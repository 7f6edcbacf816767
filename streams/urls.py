"""Canonical article URLs: the article key, so one story under tracking-decorated URLs is one article."""

from __future__ import annotations

import re
import urllib.parse

_TRACKING = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|yclid|igshid|_ga|_gl|ocid|cmpid|"
    r"ito|icid|ns_\w+|ref|ref_src|referrer|source|src|via|share|smid|sh|at_\w+|xtor|__twitter_impression|"
    r"taid|guccounter|guce_\w+|rss|feed|outputType|output)$",
    re.IGNORECASE,
)


def canonical_url(url: str) -> str:
    """Lower-case scheme and host (``http`` and ``https`` as one, no ``www.``, no default port), no
    fragment, no tracking parameters, the remaining parameters sorted, no trailing slash. Raises
    ``ValueError`` for a URL that is not http(s)."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url[:200]!r}")
    host = parts.hostname.lower().rstrip(".")
    host = host.removeprefix("www.").removeprefix("m.").removeprefix("amp.")
    port = parts.port
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    query = sorted((k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
                   if not _TRACKING.match(k))
    path = re.sub(r"/{2,}", "/", parts.path or "/")
    path = re.sub(r"/(amp|index\.html?)$", "", path).rstrip("/") or "/"
    return urllib.parse.urlunsplit(("https", netloc, path, urllib.parse.urlencode(query), ""))
