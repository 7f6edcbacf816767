import datetime as dt

import pytest

from extractors.dates import resolve

PUB = dt.date(2012, 3, 8)  # a Thursday


@pytest.mark.parametrize(("text", "day"), [
    ("defected on Tuesday", "2012-03-06"),
    ("Monday", "2012-03-05"),
    ("this morning's defection", "2012-03-08"),
    ("earlier on Thursday", "2012-03-08"),
    ("announced overnight Wednesday", "2012-03-07"),
    ("yesterday", "2012-03-07"),
    ("on March 2", "2012-03-02"),
    ("on Aug. 9 last year", "2011-08-09"),
    ("5 days ago", "2012-03-03"),
])
def test_days_resolve_against_publication(text: str, day: str) -> None:
    w = resolve(text, PUB)
    assert w is not None and w.date == dt.date.fromisoformat(day)


@pytest.mark.parametrize(("text", "older_than"), [
    ("last week", 5), ("last month", 20), ("in late November", 60), ("in 1976", 3000),
])
def test_vague_times_have_an_age_but_no_day(text: str, older_than: int) -> None:
    w = resolve(text, PUB)
    assert w is not None and w.date is None and w.age_days is not None and w.age_days > older_than


def test_no_publication_date_means_no_day() -> None:
    w = resolve("on Tuesday", None)
    assert w is not None and w.date is None
    assert resolve("no time here", PUB) is None
