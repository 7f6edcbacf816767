"""Integration over the shared corpus: the quality bars of the foundation issue, and the pre-filter proof."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from extractors import Article, Extractor
from extractors.extract import read_events
from streams.cli import main


def _score(shared: Path, gold: str, tmp_path: Path) -> dict:
    pred = tmp_path / f"{gold}.pred.jsonl"
    assert main(["extract", str(shared / "corpus" / f"{gold}.jsonl"), "-o", str(pred), "-q"]) == 0
    spec = importlib.util.spec_from_file_location("score", shared / "eval" / "score.py")
    assert spec and spec.loader
    score = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(score)
    res, _ = score.score(score.load(shared / "corpus" / f"{gold}.jsonl"), score.load(pred))
    return res


@pytest.mark.integration
def test_seeds_quality_bars(shared: Path, tmp_path: Path) -> None:
    res = _score(shared, "seeds", tmp_path)
    assert res["events"]["f"] >= 0.95
    assert res["alerts"]["f"] >= 0.95
    assert res["dedup_bcubed"]["f"] >= 0.95
    for slot, value in res["slots"].items():
        assert value is None or value >= 0.85, slot


@pytest.mark.integration
def test_dev_quality_bars(shared: Path, tmp_path: Path) -> None:
    res = _score(shared, "dev", tmp_path)
    assert res["events"]["f"] >= 0.85
    assert res["alerts"]["p"] >= 0.90 and res["alerts"]["r"] >= 0.85
    assert res["dedup_bcubed"]["f"] >= 0.90


@pytest.mark.integration
def test_prefilter_never_drops_what_the_extractor_reports(shared: Path, extractor: Extractor) -> None:
    """Articles the pre-filter rejects, run through the full pipeline on their whole text, yield nothing."""
    rejected = 0
    for name in ("seeds", "dev", "background"):
        for line in (shared / "corpus" / f"{name}.jsonl").read_text().splitlines():
            a = Article.model_validate({k: v for k, v in json.loads(line).items() if k != "events"})
            if extractor.extract(a):
                continue
            from extractors import prefilter

            if prefilter(a.title, a.text):
                continue
            rejected += 1
            doc = extractor.nlp(a.text)
            assert read_events(a, [(doc, 0)]) == [], a.id
    assert rejected > 100
