import datetime as dt
from pathlib import Path

import pytest

from extractors import DefectionEvent, Defector, Source
from streams.search import SearchQuery, es_query, matches, search_store, seniority_arg
from streams.store import Store


def event(eid: str, name: str | None, rank: str, frm: str, to: str | None, day: str, status: str = "reported",
          seniority: float = 0.5, seen_h: int = 0) -> DefectionEvent:
    seen = dt.datetime(2024, 3, 10, tzinfo=dt.UTC) + dt.timedelta(hours=seen_h)
    return DefectionEvent(event_id=eid, status=status,  # type: ignore[arg-type]
                          defectors=[Defector(name=name, rank=rank)], from_=frm, to=to,
                          date=dt.date.fromisoformat(day), seniority=seniority, evidence=f"{rank} {name} left",
                          sources=[Source(article_id=eid + "-a", title="A headline")], first_seen=seen,
                          last_seen=seen)


EVENTS = [
    event("e1", "Omar Haddad", "brigadier general", "Syria", "Turkey", "2024-03-01", seniority=0.6, seen_h=1),
    event("e2", None, "colonel", "Eritrea", "Ethiopia", "2024-03-05", seen_h=2),
    event("e3", "Ivan Petrov", "major", "Russia", None, "2024-02-01", status="denied", seniority=0.4, seen_h=3),
]


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "db.sqlite3")
    for e in EVENTS:
        s.save(e.sources[0].article_id, None, "", None, None, [e], [e])
    return s


@pytest.mark.parametrize(("query", "want"), [
    (SearchQuery(), ["e3", "e2", "e1"]),
    (SearchQuery(text="haddad"), ["e1"]),
    (SearchQuery(text="HADDAD general"), ["e1"]),
    (SearchQuery(text="haddad colonel"), []),
    (SearchQuery(country="Turkish"), ["e1"]),
    (SearchQuery(country="eritrea"), ["e2"]),
    (SearchQuery(min_seniority=0.5), ["e2", "e1"]),
    (SearchQuery(status="denied"), ["e3"]),
    (SearchQuery(since=dt.date(2024, 3, 1), until=dt.date(2024, 3, 4)), ["e1"]),
    (SearchQuery(limit=1), ["e3"]),
])
def test_store_search(store: Store, query: SearchQuery, want: list[str]) -> None:
    assert [e.event_id for e in search_store(store, query)] == want


def test_merged_events_never_match() -> None:
    assert not matches(EVENTS[0].model_copy(update={"merged_into": "e9"}), SearchQuery())


def test_seniority_accepts_numbers_and_ranks() -> None:
    assert seniority_arg("0.7") == 0.7
    assert seniority_arg("colonel") == seniority_arg("Col.") > seniority_arg("major")
    with pytest.raises(ValueError, match="neither"):
        seniority_arg("banana")
    with pytest.raises(ValueError, match="0 to 1"):
        seniority_arg("3")


def test_es_query_has_the_same_filters() -> None:
    q = es_query(SearchQuery(text="omar", country="Syrian", min_seniority=0.5, status="reported",
                             since=dt.date(2024, 1, 1)))["bool"]
    assert q["must"] == [{"match": {"text_all": {"query": "omar", "operator": "and"}}}]
    kinds = {next(iter(f)) for f in q["filter"]}
    assert kinds == {"term", "range", "bool"}
    assert {"term": {"from": {"value": "Syria", "case_insensitive": True}}} in q["filter"][2]["bool"]["should"]
