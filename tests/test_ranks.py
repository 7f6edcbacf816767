import pytest

from extractors import ranks


@pytest.mark.parametrize(("phrase", "rank"), [
    ("Brig. Gen. Zaher al-Sakat", "brigadier general"),
    ("Brigadier-General", "brigadier general"),
    ("Maj. Gen. Ivan Petrov", "major general"),
    ("Lt. Col. Chan", "lieutenant colonel"),
    ("Col. Riad", "colonel"),
    ("Lt. Ahmed", "lieutenant"),
    ("Adm. Smith", "general"),
    ("rear admiral", "major general"),
    ("vice admiral", "lieutenant general"),
    ("commodore", "brigadier general"),
    ("a brigadier", "brigadier general"),
    ("four high-ranking officers", "senior officer"),
    ("former deputy oil minister", "deputy minister"),
    ("prime minister", "prime minister"),
    ("ambassador to Iraq", "ambassador"),
    ("the government spokesman", "spokesperson"),
    ("MP for Bury South", "member of parliament"),
    ("the attorney-general of the province", "judge"),
    ("34 police personnel", "police officer"),
    ("an intelligence officer", "intelligence officer"),
    ("a helicopter pilot", "pilot"),
    ("200 soldiers", "soldier"),
])
def test_rank_lexicon(phrase: str, rank: str) -> None:
    assert ranks.rank_of(phrase) == rank


@pytest.mark.parametrize("phrase", ["the secretary-general", "the general election", "in general"])
def test_general_that_is_not_a_rank(phrase: str) -> None:
    assert ranks.rank_of(phrase) is None


def test_codes_and_seniority_follow_the_ladder() -> None:
    assert ranks.code("brigadier general") == "OF-6"
    assert ranks.code("colonel") == "OF-5"
    assert ranks.code("soldier").startswith("OR")
    assert ranks.code("deputy minister").startswith("CIV")
    ladder = ["soldier", "lieutenant", "major", "colonel", "brigadier general", "major general", "general"]
    values = [ranks.seniority(r) for r in ladder]
    assert values == sorted(values) and values[-1] == 1.0
