from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from extractors import Article, Extractor

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="session")
def extractor() -> Extractor:
    return Extractor()


@pytest.fixture(scope="session")
def shared() -> Path:
    if not (SHARED / "corpus" / "seeds.jsonl").exists():
        pytest.fail(f"the shared corpus is missing at {SHARED} (it sits beside the project root)")
    return SHARED


def art(text: str, published: str | None = "2024-03-14", title: str = "", aid: str = "t1") -> Article:
    return Article(id=aid, title=title, text=text,
                   published=dt.date.fromisoformat(published) if published else None)
