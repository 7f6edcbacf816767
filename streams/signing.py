"""Webhook signatures. Each delivery carries

    X-Defwatch-Timestamp: <unix seconds>
    X-Defwatch-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>." + body, keyed with the target's secret>

A receiver recomputes the HMAC over the raw body it received and compares in constant time, and refuses
timestamps too far from its clock (replays). ``verify`` does exactly that; it has no dependencies beyond
the standard library, so receivers can copy it.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "X-Defwatch-Signature"
TIMESTAMP_HEADER = "X-Defwatch-Timestamp"
DELIVERY_HEADER = "X-Defwatch-Delivery"


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: bytes, timestamp: str | int, body: bytes, signature: str, tolerance: int = 300,
           now: float | None = None) -> bool:
    """True when ``signature`` is the HMAC of ``timestamp`` and ``body`` under ``secret`` and the timestamp
    is within ``tolerance`` seconds of ``now``."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - ts) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature)
