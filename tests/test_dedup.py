import datetime as dt

from extractors import Deduplicator, DefectionEvent, Defector, Source, entity_key
from extractors.dedup import names_match

NOW = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)


def ev(article: str, *, name: str | None = None, rank: str = "colonel", count: int = 1, frm: str = "Syria",
       to: str | None = "Turkey", day: str | None = "2024-02-27", published: str = "2024-02-28") -> DefectionEvent:
    return DefectionEvent(
        defectors=[Defector(name=name, rank=rank, count=count)], count=count, from_=frm, to=to,
        date=dt.date.fromisoformat(day) if day else None, evidence=f"evidence of {article}",
        sources=[Source(article_id=article, published=dt.date.fromisoformat(published))],
    )


def test_transliteration_variants_match() -> None:
    assert names_match("Abdelaziz Jassim al-Shalal", "Abdul-Aziz al-Shallal")
    assert names_match("Abdo Hussameddin", "Abdo Hussameldin")
    assert names_match("Riad al-Asaad", "Riad al-As'aad")
    assert not names_match("Riad Hijab", "Adnan Farzat")


def test_same_person_across_outlets_is_one_event() -> None:
    d = Deduplicator()
    a, new_a = d.add(ev("a1", name="Zaher al-Sakat", rank="brigadier general"), NOW)
    b, new_b = d.add(ev("a2", name="Zaher Al-Saket", rank="colonel", day=None), NOW)
    assert new_a and not new_b and a.event_id == b.event_id
    assert b.corroboration == 2 and {s.article_id for s in b.sources} == {"a1", "a2"}
    assert b.defectors[0].rank == "brigadier general"  # the most specific rank wins


def test_unnamed_groups_join_on_origin_rank_destination_and_date() -> None:
    d = Deduplicator()
    a, _ = d.add(ev("a1", rank="brigadier general", count=4), NOW)
    b, new = d.add(ev("a2", rank="brigadier general", count=4, day="2024-02-27", published="2024-02-29"), NOW)
    c, new_c = d.add(ev("a3", rank="brigadier general", count=4, day="2024-02-10", published="2024-02-11"), NOW)
    assert not new and a.event_id == b.event_id
    assert new_c and c.event_id != a.event_id
    other, new_o = d.add(ev("a4", rank="general", count=2), NOW)
    assert new_o and other.event_id != a.event_id


def test_redelivered_report_does_not_add_corroboration() -> None:
    d = Deduplicator()
    d.add(ev("a1", name="Riad Hijab", rank="prime minister"), NOW)
    again, new = d.add(ev("a1", name="Riad Hijab", rank="prime minister"), NOW)
    assert not new and again.corroboration == 1


def test_most_corroborated_count_wins() -> None:
    d = Deduplicator()
    d.add(ev("a1", rank="general", count=8), NOW)
    d.add(ev("a2", rank="general", count=8), NOW)
    c, _ = d.add(ev("a3", rank="general", count=33, day=None), NOW)
    assert c.count == 8 and c.corroboration == 3


def test_entity_key_is_stable() -> None:
    assert entity_key(ev("x", name="Abdelaziz al-Shalal")) == entity_key(ev("y", name="Abdul-Aziz al-Shallal"))
    assert entity_key(ev("x")) == "group:syria:colonel"


def test_a_report_that_matches_two_events_joins_them() -> None:
    d = Deduplicator()
    first, _ = d.add(ev("a1", rank="general", count=2, to="Turkey", day=None, published="2024-02-20"), NOW)
    second, _ = d.add(ev("a2", rank="general", count=2, to="Turkey", day=None, published="2024-02-24"), NOW)
    assert first.event_id != second.event_id  # four days apart: two events so far
    res = d.add_report(ev("a3", rank="general", count=2, to="Turkey", day=None, published="2024-02-22"), NOW)
    assert {s.article_id for s in res.canonical.sources} == {"a1", "a2", "a3"}
    assert [g.merged_into for g in res.absorbed] == [res.canonical.event_id]
    assert d.resolve(second.event_id) == d.resolve(first.event_id) == res.canonical.event_id
    assert len(d.canonical()) == 1


def test_combine_is_a_union_of_sources_in_any_order_and_idempotent() -> None:
    from extractors.dedup import combine

    t = NOW
    old = ev("a1").model_copy(update={"event_id": "ev-x", "first_seen": t, "last_seen": t})
    new = ev("a2").model_copy(update={"event_id": "ev-x", "first_seen": t + dt.timedelta(hours=1),
                                      "last_seen": t + dt.timedelta(hours=2), "count": 3})
    ab, ba = combine(old, new), combine(new, old)
    assert ab == ba
    assert {s.article_id for s in ab.sources} == {"a1", "a2"} and ab.corroboration == 2
    assert ab.first_seen == t and ab.last_seen == t + dt.timedelta(hours=2) and ab.count == 3  # newer slots
    assert combine(ab, old) == ab and combine(ab, ab) == ab  # a redelivered version changes nothing
    assert combine(None, old) == old
