import datetime as dt

from extractors import DefectionEvent, Defector, Source
from streams.documents import day_of, event_doc, report_doc, report_id, report_month, searchable_text, words


def event(**kw: object) -> DefectionEvent:
    base: dict[str, object] = dict(
        event_id="ev-1", defectors=[Defector(name="Omar Haddad", rank="brigadier general", role="commander"),
                                    Defector(rank="colonel", count=2)],
        from_="Syria", to="Turkey", joined="Free Syrian Army", evidence="Brig. Gen. Omar Haddad crossed into Turkey.",
        evidence_start=10, sources=[Source(article_id="a1", source="Example Wire", title="Officers defect",
                                           published=dt.date(2024, 3, 2))],
        first_seen=dt.datetime(2024, 3, 3, 12, tzinfo=dt.UTC))
    base.update(kw)
    return DefectionEvent(**base)  # type: ignore[arg-type]


def test_day_prefers_the_defection_date_then_first_seen() -> None:
    assert day_of(event(date=dt.date(2024, 3, 1))) == dt.date(2024, 3, 1)
    assert day_of(event()) == dt.date(2024, 3, 3)
    assert day_of(event(first_seen=None)) == dt.date(2024, 3, 2)


def test_event_document_has_the_flat_fields_dashboards_aggregate_on() -> None:
    doc = event_doc(event())
    assert doc["top_rank"] == "brigadier general" and doc["defector_names"] == ["Omar Haddad"]
    assert doc["outlets"] == ["Example Wire"] and doc["day"] == "2024-03-03" and doc["from"] == "Syria"
    for word in ("haddad", "brigadier", "commander", "turkey", "free", "officers", "wire", "crossed"):
        assert word in words(doc["text_all"]), word
    assert searchable_text(event()) == doc["text_all"]


def test_report_ids_and_months_are_stable_under_redelivery() -> None:
    r = event()
    assert report_id(r) == report_id(r.model_copy()) != report_id(r.model_copy(update={"evidence_start": 99}))
    assert report_month(r) == "2024.03"
    assert report_doc(r)["article_id"] == "a1" and report_doc(r)["outlet"] == "Example Wire"
