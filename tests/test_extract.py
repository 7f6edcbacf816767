"""Slot and status tests on fixtures written for these tests (not corpus text)."""

from extractors import Extractor

from .conftest import art


def one(extractor: Extractor, text: str, **kw: str) -> dict:
    evs = [e.to_json_dict() for e in extractor.extract(art(text, **kw))]
    assert len(evs) == 1, evs
    return evs[0]


def test_group_breakdown_count_origin_destination_date(extractor: Extractor) -> None:
    e = one(extractor, "Three Libyan generals and a colonel defected to Tunisia on Tuesday, officials said.")
    assert e["status"] == "reported" and e["sector"] == "military"
    assert {(d["rank"], d["count"]) for d in e["defectors"]} == {("general", 3), ("colonel", 1)}
    assert e["count"] == 4 and e["from"] == "Libya" and e["to"] == "Tunisia" and e["date"] == "2024-03-12"
    assert e["seniority"] >= 0.9 and e["rank_code"] == "OF-9"


def test_named_officer_with_abbreviated_rank(extractor: Extractor) -> None:
    e = one(extractor, "Brig. Gen. Omar Haddad, a Syrian artillery commander, defected to the rebels on Monday.")
    (d,) = e["defectors"]
    assert d["name"] == "Omar Haddad" and d["rank"] == "brigadier general" and d["rank_code"] == "OF-6"
    assert e["joined"] == "rebels" and e["from"] == "Syria" and e["date"] == "2024-03-11"


def test_noun_phrase_defection_of_a_civil_official(extractor: Extractor) -> None:
    e = one(extractor, "Officials confirmed this morning the defection of the former Iraqi deputy trade minister.")
    assert e["defectors"][0]["rank"] == "deputy minister" and e["sector"] == "government"
    assert e["from"] == "Iraq" and e["date"] == "2024-03-14"


def test_approximate_counts(extractor: Extractor) -> None:
    e = one(extractor, "Some 30 Sudanese soldiers defected and crossed into Chad on Wednesday.")
    assert e["count"] == 30 and e["to"] == "Chad"
    e = one(extractor, "Dozens of Sudanese soldiers defected to the rebels on Wednesday.")
    assert e["count"] is None


def test_background_mentions(extractor: Extractor) -> None:
    evs = extractor.extract(art("The first general to defect was Hassan Nouri.\n\nLast month a Syrian colonel "
                                "defected to Jordan."))
    assert evs and all(e.status == "background" for e in evs)


def test_denied(extractor: Extractor) -> None:
    e = one(extractor, "State television denied on Wednesday that former defence minister Karim Saleh had "
                       "defected, saying reports of his defection were false.")
    assert e["status"] == "denied" and e["defectors"][0]["rank"] == "minister"


def test_hedges_lower_confidence(extractor: Extractor) -> None:
    sure = one(extractor, "The ministry confirmed that Colonel Yusuf Demir defected to Greece on Monday.")
    hedged = one(extractor, "Colonel Yusuf Demir has reportedly defected to Greece, according to rebel sources, "
                            "a claim that could not be verified.")
    assert hedged["confidence"] < sure["confidence"]


def test_coreference_to_the_next_sentence(extractor: Extractor) -> None:
    e = one(extractor, "A North Korean army major defected across the border on Tuesday.\n\nThe major was taken "
                       "to Seoul for questioning, and he later said he had fled to South Korea for freedom.")
    assert e["defectors"][0]["rank"] == "major" and e["from"] == "North Korea"


def test_party_switch(extractor: Extractor) -> None:
    e = one(extractor, "Ontario MP Jane Doucet crossed the floor on Monday to join the Conservatives.")
    assert e["sector"] == "party" and e["defectors"][0]["rank"] == "member of parliament"
    assert e["joined"] == "Conservatives" and e["from"] == "Canada"


def test_evidence_offsets_point_into_the_text(extractor: Extractor) -> None:
    text = "Markets were calm.\n\nTwo Syrian colonels defected to Turkey on Tuesday."
    (e,) = extractor.extract(art(text))
    assert text[e.evidence_start : e.evidence_end] == e.evidence == "Two Syrian colonels defected to Turkey on Tuesday."


def test_non_political_defections_are_ignored(extractor: Extractor) -> None:
    assert extractor.extract(art("Seventeen golfers defected to the rival tour last week.")) == []
    assert extractor.extract(art("The car has serious design defects.")) == []


def test_same_event_in_two_sentences_is_one_event(extractor: Extractor) -> None:
    evs = extractor.extract(art("Nearly 20 Syrian officers defected to Turkey on Monday, a source said. The 17 "
                                "officers defected on the same day as the minister."))
    assert len(evs) == 1 and evs[0].count == 17


def test_destinations_of_several_words_and_asylum_in(extractor: Extractor) -> None:
    e = one(extractor, "A North Korean soldier defected to South Korea on Tuesday, the military said.")
    assert e["from"] == "North Korea" and e["to"] == "South Korea"
    e = one(extractor, "An Iranian consul has defected and is seeking asylum in Norway, officials said on Wednesday.")
    assert e["to"] == "Norway" and e["sector"] == "diplomatic"


def test_units_and_counts_after_of(extractor: Extractor) -> None:
    e = one(extractor, "Officials said a Russian tank crew of three surrendered and switched sides on Wednesday.")
    assert e["count"] == 3 and e["from"] == "Russia" and e["defectors"][0]["rank"] == "soldier"


def test_athletes_need_a_country_in_view_and_demonyms_name_it(extractor: Extractor) -> None:
    e = one(extractor, "The Olympic wrestler defected during a tournament in Spain on Thursday, Cuban sports "
                       "officials confirmed.")
    assert e["sector"] == "other" and e["from"] == "Cuba"
