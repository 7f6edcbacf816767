"""The terminal table of events and senior alerts."""

from __future__ import annotations

from extractors import DefectionEvent


def _cell(s: object, width: int) -> str:
    t = "" if s is None else str(s)
    return (t[: width - 1] + "\u2026") if len(t) > width else t.ljust(width)


_COLS = [("status", 10), ("sector", 10), ("who", 34), ("n", 4), ("from", 12), ("to", 12), ("date", 10),
         ("conf", 4), ("src", 3)]


def event_rows(events: list[DefectionEvent]) -> list[str]:
    """A header and one line per event."""
    lines = [" ".join(_cell(c, w) for c, w in _COLS), " ".join("-" * w for _, w in _COLS)]
    for e in events:
        who = "; ".join(d.name or f"{d.count} {d.rank or '?'}" for d in e.defectors)
        lines.append(" ".join(_cell(v, w) for v, (_, w) in zip(
            [e.status, e.sector, who, e.count, e.from_, e.to, e.date, f"{e.confidence:.2f}", e.corroboration],
            _COLS, strict=True)))
    return lines


def render_table(events: list[DefectionEvent], counts: dict[str, int], alerts: list[str]) -> str:
    lines = [
        f"defwatch  articles {counts.get('articles', 0)}  events {counts.get('events', 0)}  "
        f"dead letters {counts.get('deadletter', 0)}  alerts {counts.get('alerts', 0)}",
        *event_rows(events),
    ]
    if alerts:
        lines.append("")
        lines.extend(alerts)
    return "\n".join(lines)
