"""Delivering one webhook: SSRF guard on the resolved address, pinned connection, signature, retries.

* The target's host is resolved at send time and every address checked: loopback, private, link-local
  (cloud metadata lives there), multicast, reserved and unspecified addresses are refused unless the
  target sets ``allow_private``. The connection then goes to the address that was checked (no second
  lookup an attacker's DNS could answer differently), with the host name kept for TLS and ``Host``.
* Redirects are not followed (a redirect is a 3xx answer, reported as a failure).
* Timeouts, connection errors, 5xx and 429 are retried with exponential backoff and jitter, honouring
  ``Retry-After``; any other 4xx is final. After ``max_attempts`` the delivery is dead.
"""

from __future__ import annotations

import email.utils
import http.client
import random
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

from streams import signing
from streams.netguard import PinnedHTTP, PinnedHTTPS, Refused, resolve
from streams.rules import Target

MAX_RETRY_AFTER = 300.0


@dataclass(frozen=True, slots=True)
class Attempt:
    status: int | None
    error: str | None
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def retryable(self) -> bool:
        if self.status is None:
            return True  # timeout or connection error
        return self.status == 429 or self.status >= 500


@dataclass(frozen=True, slots=True)
class Outcome:
    delivered: bool
    attempts: int
    last_error: str | None
    refused: bool = False


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return min(MAX_RETRY_AFTER, max(0.0, float(value)))
    except ValueError:
        pass
    try:  # an HTTP date; a receiver's garbage here must not break the delivery
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(MAX_RETRY_AFTER, max(0.0, when.timestamp() - time.time()))


def post_once(target: Target, body: bytes, delivery_id: str, secret: bytes | None) -> Attempt:
    host, port, address = resolve(target.url, target.allow_private)
    parts = urllib.parse.urlsplit(target.url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    conn_cls = PinnedHTTPS if parts.scheme == "https" else PinnedHTTP
    conn = conn_cls(host, port, address, target.timeout)
    ts = int(time.time())
    headers = {"Content-Type": "application/json", "User-Agent": "defwatch-alerts/1",
               signing.DELIVERY_HEADER: delivery_id, signing.TIMESTAMP_HEADER: str(ts)}
    if secret:
        headers[signing.HEADER] = signing.sign(secret, ts, body)
    try:
        conn.request("POST", path, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read(65536)
        err = None if 200 <= resp.status < 300 else f"HTTP {resp.status} {resp.reason}"
        return Attempt(resp.status, err, _retry_after(resp.getheader("Retry-After")))
    except (OSError, http.client.HTTPException) as exc:
        return Attempt(None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    finally:
        conn.close()


def deliver(target: Target, body: bytes, delivery_id: str, secret: bytes | None,
            on_retry: Callable[[Attempt, float], None] = lambda a, d: None,
            sleep: Callable[[float], None] = time.sleep, base_delay: float = 1.0,
            max_delay: float = 60.0) -> Outcome:
    """POST ``body`` until it is accepted, a final answer comes, or the attempts run out."""
    last: Attempt | None = None
    for n in range(1, target.max_attempts + 1):
        try:
            last = post_once(target, body, delivery_id, secret)
        except Refused as exc:
            return Outcome(False, n, f"refused: {exc}", refused=True)
        if last.ok:
            return Outcome(True, n, None)
        if not last.retryable or n == target.max_attempts:
            break
        delay = min(max_delay, base_delay * 2 ** (n - 1)) * random.uniform(0.5, 1.5)
        if last.retry_after is not None:
            delay = max(delay, last.retry_after)
        on_retry(last, delay)
        sleep(delay)
    assert last is not None
    return Outcome(False, target.max_attempts if last.retryable else n, last.error)
