from pathlib import Path

import pytest

from extractors import DefectionEvent, Defector, ranks
from streams.rules import RulesError, default_rules, load_rules

ROOT = Path(__file__).resolve().parents[1]


def ev(rank: str, status: str = "reported", sector: str = "military", confidence: float = 0.8,
       origin: str = "Syria", corroboration: int = 1) -> DefectionEvent:
    r = ranks.rank_of(rank)
    return DefectionEvent(status=status, sector=sector, defectors=[Defector(rank=r)],  # type: ignore[arg-type]
                          seniority=ranks.seniority(r), confidence=confidence, from_=origin,
                          corroboration=corroboration)


def test_default_rule_is_colonel_deputy_minister_ambassador_and_up() -> None:
    [rule] = default_rules().rules
    for rank, sector in (("colonel", "military"), ("deputy minister", "government"),
                         ("ambassador", "diplomatic"), ("general", "military"), ("minister", "government")):
        assert rule.fires(ev(rank, sector=sector)), rank
    assert not rule.fires(ev("lieutenant colonel"))
    assert not rule.fires(ev("colonel", status="background"))
    assert not rule.fires(ev("colonel", sector="party"))
    assert not rule.fires(ev("colonel", confidence=0.2))


def test_the_shipped_rules_file_loads() -> None:
    rs = load_rules(ROOT / "deploy" / "alerts" / "rules.toml")
    assert [t.name for t in rs.targets] == ["newsroom-chat", "case-tool"]
    flag = next(r for r in rs.rules if r.name == "flag-officers-corroborated")
    assert not flag.fires(ev("general", corroboration=1)) and flag.fires(ev("general", corroboration=2))


def test_origin_filter_takes_demonyms(tmp_path: Path) -> None:
    p = tmp_path / "r.toml"
    p.write_text('[[rules]]\nname = "r"\norigins = ["Syrian"]\nmin_rank = "colonel"\n')
    [rule] = load_rules(p).rules
    assert rule.fires(ev("colonel")) and not rule.fires(ev("colonel", origin="Russia"))


@pytest.mark.parametrize(("text", "message"), [
    ("[[rules]\n", "not valid TOML"),
    ('[[rules]]\nname = "r"\ntargets = ["nowhere"]\n', "unknown target"),
    ('[[rules]]\nname = "r"\nmin_rank = "wizard"\n', "not a known rank"),
    ('[[targets]]\nname = "t"\nurl = "ftp://x"\n', "url"),
    ('[[rules]]\nname = "r"\nsurprise = 1\n', "surprise"),
])
def test_bad_rules_files_are_named_clearly(tmp_path: Path, text: str, message: str) -> None:
    p = tmp_path / "r.toml"
    p.write_text(text)
    with pytest.raises(RulesError, match=message):
        load_rules(p)
    with pytest.raises(RulesError, match="cannot read"):
        load_rules(tmp_path / "missing.toml")
