import json
from pathlib import Path

from extractors import Extractor
from streams.embedded import EmbeddedRunner
from streams.inputs import read_input
from streams.settings import Settings


def test_run_once_twice_keeps_one_row_per_event(tmp_path: Path, extractor: Extractor) -> None:
    settings = Settings(data_dir=tmp_path, feeds=[])
    r = EmbeddedRunner(settings, extractor=extractor, log=lambda m: None)
    r.run(once=True)
    first = EmbeddedRunner(settings, extractor=extractor, log=lambda m: None)
    counts = first.store.counts()
    first.run(once=True)
    again = EmbeddedRunner(settings, extractor=extractor, log=lambda m: None).store.counts()
    assert counts == again and counts["events"] >= 3 and counts["alerts"] >= 1


def test_bad_records_go_to_the_dead_letter_table(tmp_path: Path, extractor: Extractor) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text("garbage\n" + json.dumps({"id": "x", "text": ""}) + "\n")
    r = EmbeddedRunner(Settings(data_dir=tmp_path, feeds=[]), extractor=extractor, log=lambda m: None)
    r.ingest(read_input(str(src)))
    assert r.store.counts()["deadletter"] == 2


def test_unreachable_feed_is_reported_not_fatal(tmp_path: Path, extractor: Extractor) -> None:
    logs: list[str] = []
    r = EmbeddedRunner(Settings(data_dir=tmp_path, feeds=["http://127.0.0.1:9/none.xml"], fetch_timeout=1),
                       extractor=extractor, log=logs.append)
    assert r.run(once=True, sample=False) == 0
    assert any("unreachable" in m for m in logs)
