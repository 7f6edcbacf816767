"""A small progress bar on stderr for long inputs."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, total: int | None, label: str = "articles", stream: TextIO | None = None,
                 min_interval: float = 0.5) -> None:
        self.total = total
        self.label = label
        self.stream = stream or sys.stderr
        self.n = 0
        self.errors = 0
        self.start = time.monotonic()
        self._last = 0.0
        self.min_interval = min_interval
        self.tty = self.stream.isatty()

    def step(self, error: bool = False) -> None:
        self.n += 1
        self.errors += error
        now = time.monotonic()
        if now - self._last >= self.min_interval:
            self._last = now
            self._draw(final=False)

    def _draw(self, final: bool) -> None:
        rate = self.n / max(1e-9, time.monotonic() - self.start)
        if self.total:
            frac = min(1.0, self.n / self.total)
            bar = "#" * int(frac * 30)
            text = f"[{bar:<30}] {self.n}/{self.total} {self.label} {rate:.1f}/s"
        else:
            text = f"{self.n} {self.label} {rate:.1f}/s"
        if self.errors:
            text += f", {self.errors} bad"
        if self.tty:
            self.stream.write("\r" + text + ("\n" if final else ""))
        elif final or self.n == 1 or (self.total and self.n % max(1, self.total // 10) == 0):
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        self._draw(final=True)
