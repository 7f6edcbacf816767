import datetime as dt
from typing import Any

import pytest

from streams.templates import EVENT_PROPERTIES, Capabilities, Names, cleanup_reports, events_template, reports_template


def test_full_template_uses_scaled_floats_and_falls_back_to_float() -> None:
    names = Names("defwatch")
    full = events_template(names, Capabilities())["template"]["mappings"]["properties"]
    assert full["confidence"]["type"] == "scaled_float" and full["seniority"]["type"] == "scaled_float"
    bare = events_template(names, Capabilities(scaled_float=False))["template"]["mappings"]["properties"]
    assert bare["confidence"] == {"type": "float"}
    assert EVENT_PROPERTIES["confidence"]["type"] == "scaled_float"  # the fallback copies, never mutates


def test_mapping_types_an_analyst_expects() -> None:
    p = EVENT_PROPERTIES
    for kw in ("event_id", "status", "sector", "from", "to", "rank_code", "top_rank"):
        assert p[kw]["type"] == "keyword", kw
    for d in ("date", "first_seen", "last_seen", "day"):
        assert p[d]["type"] == "date", d
    assert p["defectors"]["type"] == "nested" and p["sources"]["type"] == "nested"
    assert p["defectors"]["properties"]["name"]["fields"]["keyword"]["type"] == "keyword"
    assert p["evidence"]["type"] == "text"


def test_names_are_versioned_behind_aliases() -> None:
    n = Names("dw", version=3)
    assert (n.events_alias, n.events_index) == ("dw-events", "dw-events-v3")
    assert n.reports_index("2024.03") == "dw-reports-v3-2024.03"
    t = reports_template(n, Capabilities(ilm=True))
    assert t["index_patterns"] == ["dw-reports-v3-*"] and "dw-reports" in t["template"]["aliases"]
    assert t["template"]["settings"]["index.lifecycle.name"] == "dw-reports"
    assert "index.lifecycle.name" not in reports_template(n, Capabilities(ilm=False))["template"]["settings"]


class _Indices:
    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.deleted: list[str] = []

    def get(self, **_: Any) -> Any:
        return type("R", (), {"body": {n: {} for n in self.names}})()

    def delete(self, index: str) -> None:
        self.deleted.append(index)


@pytest.mark.parametrize(("today", "gone"), [
    (dt.date(2024, 6, 29), ["p-reports-v1-2024.01", "p-reports-v1-2024.02"]),
    (dt.date(2024, 5, 29), ["p-reports-v1-2024.01"]),
])
def test_cleanup_deletes_only_months_past_retention(today: dt.date, gone: list[str]) -> None:
    idx = _Indices(["p-reports-v1-2024.01", "p-reports-v1-2024.02", "p-reports-v1-2024.03", "p-reports-v1-x"])
    es = type("ES", (), {"indices": idx})()
    assert cleanup_reports(es, Names("p"), 90, today=today) == gone  # type: ignore[arg-type]
