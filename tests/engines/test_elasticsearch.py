"""The Elasticsearch side on the real engine: templates, versioned index and alias, read-modify-write
upserts, report indices and their retention, and search with the same answers as the embedded store."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from extractors import Deduplicator, DefectionEvent, Defector, Extractor, Source
from extractors.dedup import with_event_id
from streams import templates
from streams.indexer import index_reports, upsert_events
from streams.inputs import read_input
from streams.search import SearchQuery, search_es, search_store
from streams.stages import Processed, process
from streams.store import Store

from .conftest import ES, drop_es

pytestmark = pytest.mark.engines
T0 = dt.datetime(2024, 3, 1, 12, tzinfo=dt.UTC)


@pytest.fixture()
def es(engines: None) -> Iterator[tuple[Elasticsearch, templates.Names]]:
    client = Elasticsearch(ES, request_timeout=30)
    names = templates.Names("t" + uuid.uuid4().hex[:10])
    templates.ensure(client, names)
    yield client, names
    drop_es(client, names.prefix)


def docs(client: Elasticsearch, index: str) -> dict[str, dict[str, object]]:
    client.indices.refresh(index=index)
    res = client.search(index=index, size=1000, query={"match_all": {}})
    return {h["_id"]: {k: v for k, v in h["_source"].items() if k != "indexed_at"} for h in res["hits"]["hits"]}


def seeds(extractor: Extractor, shared: Path) -> list[Processed]:
    out = [p for p in process(extractor, Deduplicator(), read_input(str(shared / "corpus" / "seeds.jsonl")))
           if isinstance(p, Processed)]
    assert any(p.reports for p in out)
    return out


def event(articles: list[str], seen_s: int) -> DefectionEvent:
    return DefectionEvent(event_id="ev-race", defectors=[Defector(name="Omar Haddad", rank="colonel")],
                          from_="Syria", to="Turkey", evidence="Col. Omar Haddad defected.",
                          sources=[Source(article_id=a) for a in articles], corroboration=len(articles),
                          first_seen=T0, last_seen=T0 + dt.timedelta(seconds=seen_s))


def test_templates_are_created_idempotently(es: tuple[Elasticsearch, templates.Names]) -> None:
    client, names = es
    before = client.indices.get_index_template(name=names.events_index).body
    caps = templates.ensure(client, names)
    templates.ensure(client, names)
    assert client.indices.get_index_template(name=names.events_index).body == before
    assert list(client.indices.get_alias(name=names.events_alias).body) == [names.events_index]
    props = client.indices.get_mapping(index=names.events_alias).body[names.events_index]["mappings"]["properties"]
    assert props["defectors"]["type"] == "nested" and props["sources"]["type"] == "nested"
    assert props["from"]["type"] == "keyword" and props["first_seen"]["type"] == "date"
    assert props["confidence"]["type"] == ("scaled_float" if caps.scaled_float else "float")


def test_indexing_the_seeds_twice_leaves_the_same_documents(
        es: tuple[Elasticsearch, templates.Names], extractor: Extractor, shared: Path) -> None:
    client, names = es
    processed = seeds(extractor, shared)
    canon = {c.event_id: c for p in processed for c, _ in p.canonical}
    reports = [r for p in processed for r in p.reports]
    for _ in range(2):
        upsert_events(client, names.events_alias, canon.values())
        index_reports(client, names, reports)
    first = docs(client, names.events_alias)
    upsert_events(client, names.events_alias, canon.values())
    assert docs(client, names.events_alias) == first
    assert set(first) == {e.event_id for e in canon.values() if not e.merged_into}
    assert len(docs(client, names.reports_alias)) == len(reports)


def test_a_redelivered_report_does_not_double_corroboration(es: tuple[Elasticsearch, templates.Names]) -> None:
    client, names = es
    upsert_events(client, names.events_alias, [event(["a", "b"], 10)])
    assert upsert_events(client, names.events_alias, [event(["a", "b"], 10)]) == 0  # redelivered: no write
    upsert_events(client, names.events_alias, [event(["a"], 5)])  # an older version, out of order
    doc = docs(client, names.events_alias)["ev-race"]
    assert doc["corroboration"] == 2 and [s["article_id"] for s in doc["sources"]] == ["a", "b"]  # type: ignore


def test_racing_upserts_of_one_event_lose_nothing(es: tuple[Elasticsearch, templates.Names]) -> None:
    client, names = es
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            for j in range(15):
                upsert_events(client, names.events_alias, [event([f"w{k}-{j}"], 100 * k + j)])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    doc = docs(client, names.events_alias)["ev-race"]
    assert doc["corroboration"] == 60
    assert {s["article_id"] for s in doc["sources"]} == {f"w{k}-{j}" for k in range(4) for j in range(15)}  # type: ignore


def test_an_event_joined_into_another_loses_its_document(es: tuple[Elasticsearch, templates.Names]) -> None:
    client, names = es
    other = event(["x"], 1).model_copy(update={"event_id": "ev-other"})
    upsert_events(client, names.events_alias, [event(["a"], 1), other])
    upsert_events(client, names.events_alias, [other.model_copy(update={"merged_into": "ev-race"}),
                                               event(["a", "x"], 2)])
    assert set(docs(client, names.events_alias)) == {"ev-race"}


def test_a_new_mapping_version_rolls_forward_behind_the_alias(es: tuple[Elasticsearch, templates.Names]) -> None:
    client, names = es
    upsert_events(client, names.events_alias, [event(["a"], 1)])
    v2 = templates.Names(names.prefix, version=2)
    templates.ensure(client, v2)
    assert list(client.indices.get_alias(name=v2.events_alias).body) == [v2.events_index]
    assert set(docs(client, v2.events_alias)) == {"ev-race"}
    assert set(docs(client, names.events_index)) == {"ev-race"}  # the old index is left as it was


def test_old_report_months_age_out_and_events_stay(es: tuple[Elasticsearch, templates.Names]) -> None:
    client, names = es
    old = with_event_id(event(["old"], 1), event(["old"], 1))
    old = old.model_copy(update={"sources": [Source(article_id="old", published=dt.date(2023, 1, 5))]})
    new = old.model_copy(update={"sources": [Source(article_id="new", published=dt.date(2024, 3, 1))]})
    index_reports(client, names, [old, new])
    upsert_events(client, names.events_alias, [event(["old", "new"], 1)])
    gone = templates.cleanup_reports(client, names, 90, today=dt.date(2024, 3, 20))
    assert gone == [names.reports_index("2023.01")]
    assert [d["article_id"] for d in docs(client, names.reports_alias).values()] == ["new"]
    assert set(docs(client, names.events_alias)) == {"ev-race"}


QUERIES = [
    SearchQuery(),
    SearchQuery(country="Syria"),
    SearchQuery(country="turkish"),
    SearchQuery(min_seniority=0.6),
    SearchQuery(text="brigadier"),
    SearchQuery(text="general", status="reported"),
    SearchQuery(status="denied"),
    SearchQuery(status="background"),
    SearchQuery(since=dt.date(2012, 1, 1), until=dt.date(2012, 12, 31)),
    SearchQuery(since=dt.date(2020, 1, 1)),
]


def test_search_answers_like_the_embedded_store(es: tuple[Elasticsearch, templates.Names], extractor: Extractor,
                                                shared: Path, tmp_path: Path) -> None:
    client, names = es
    processed = seeds(extractor, shared)
    canon = {c.event_id: c for p in processed for c, _ in p.canonical}
    for e in canon.values():
        e.__dict__["last_seen"] = T0 + dt.timedelta(seconds=hash(e.event_id) % 1000)  # distinct sort keys
    upsert_events(client, names.events_alias, canon.values())
    client.indices.refresh(index=names.events_alias)
    with Store(tmp_path / "s.sqlite3") as store:
        for p in processed:
            store.save(p.article.id, None, "", None, None, p.reports, [canon[c.event_id] for c, _ in p.canonical],
                       p.absorbed)
        nonempty = 0
        for q in QUERIES:
            want = [e.event_id for e in search_store(store, q)]
            got = [e.event_id for e in search_es(client, names.events_alias, q)]
            assert got == want, q
            nonempty += bool(want)
    assert nonempty >= 6  # the queries select something on the seeds, not just agree on nothing
    assert [e.event_id for e in search_es(client, names.events_alias, SearchQuery(country="Narnia"))] == []
