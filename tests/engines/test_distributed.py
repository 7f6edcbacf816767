"""The distributed mode on the real engines: Kafka topics, Faust workers, Elasticsearch."""

from __future__ import annotations

import json
import os
import signal
import tempfile
import threading
import time
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer

from extractors import Extractor
from streams.embedded import EmbeddedRunner
from streams.inputs import read_input
from streams.settings import Settings

from .conftest import KAFKA, Stack, TcpProxy

pytestmark = pytest.mark.engines


Identity = tuple[frozenset[tuple[str, str]], str]


def identity(doc: dict[str, object]) -> Identity:
    """An event told apart by its reports, (article, evidence sentence) pairs, and its sector (one
    sentence can tell a minister's and some officers' defections)."""
    pairs = frozenset((str(s["article_id"]), str(s["evidence"])) for s in doc["sources"])  # type: ignore[attr-defined]
    return pairs, str(doc["sector"])


def embedded_canonical(extractor: Extractor, path: Path) -> dict[Identity, dict[str, object]]:
    """What the embedded mode makes of the same input, through the same ingester (wire copies linked)."""
    with tempfile.TemporaryDirectory() as tmp:
        runner = EmbeddedRunner(Settings(data_dir=Path(tmp), feeds=[], metrics_port=0), extractor=extractor,
                                log=lambda m: None)
        runner.ingest(read_input(str(path)))
        events = [e.to_json_dict() for e in runner.dedup.canonical()]
        runner.close()
    return {identity(d): d for d in events}


def identities(docs: list[dict[str, object]]) -> set[Identity]:
    return {identity(d) for d in docs}


def summary(doc: dict[str, object]) -> tuple[object, ...]:
    ranks = sorted(str(d["rank"]) for d in doc["defectors"])  # type: ignore[attr-defined]
    return (doc["status"], doc["sector"], doc["from"], doc["to"], tuple(ranks), doc["corroboration"])


def test_seeds_end_to_end_match_the_embedded_mode(stack: Stack, shared: Path, extractor: Extractor) -> None:
    seeds = shared / "corpus" / "seeds.jsonl"
    want = embedded_canonical(extractor, seeds)
    worker = stack.start_worker()
    stack.wait_ready(worker)
    stack.replay(seeds)
    docs = stack.wait_for_docs(lambda d: identities(d) == set(want))
    got = {identity(d): d for d in docs}
    for key, doc in want.items():
        assert summary(got[key]) == summary(doc), key
    # the four brigadier generals of seeds 000 and 001: one unnamed-group document with two sources
    shared_event = [d for d in docs if {"seed-000", "seed-001"} <= {s["article_id"] for s in d["sources"]}  # type: ignore[attr-defined]
                    and not any(x["name"] for x in d["defectors"])]  # type: ignore[attr-defined]
    assert len(shared_event) == 1 and shared_event[0]["corroboration"] == 2
    assert len({d["event_id"] for d in docs}) == len(docs)
    # every article report in the monthly reports indices, linked to its canonical event
    n_reports = sum(len(d["sources"]) for d in docs)  # type: ignore[arg-type]
    reports_alias = f"{stack.prefix}-reports"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if stack.es.indices.exists_alias(name=reports_alias):
            stack.es.indices.refresh(index=reports_alias)
            if stack.es.count(index=reports_alias)["count"] >= n_reports:
                break
        time.sleep(1)
    hits = stack.es.search(index=reports_alias, size=1000)["hits"]["hits"]
    assert len(hits) == n_reports
    assert {h["_source"]["event_id"] for h in hits} == {d["event_id"] for d in docs}


def _mixed_input(shared: Path, tmp: Path) -> Path:
    path = tmp / "mixed.jsonl"
    path.write_text((shared / "corpus" / "seeds.jsonl").read_text() + (shared / "corpus" / "dev.jsonl").read_text())
    return path


def test_two_workers_give_the_same_result_as_one(stack: Stack, shared: Path, extractor: Extractor,
                                                 tmp_path: Path) -> None:
    path = _mixed_input(shared, tmp_path)
    want = set(embedded_canonical(extractor, path))
    a, b = stack.start_worker(), stack.start_worker()
    stack.wait_ready(a)
    stack.wait_ready(b)
    stack.replay(path)
    stack.wait_for_docs(lambda d: identities(d) == want, timeout=300)


def test_worker_killed_mid_stream_loses_and_duplicates_nothing(stack: Stack, shared: Path, extractor: Extractor,
                                                               tmp_path: Path) -> None:
    path = _mixed_input(shared, tmp_path)
    want = set(embedded_canonical(extractor, path))
    first = stack.start_worker()
    stack.wait_ready(first)
    replay = threading.Thread(target=stack.replay, args=(path, "--rate", "10"))
    replay.start()
    deadline = time.monotonic() + 60
    while not stack.docs() and time.monotonic() < deadline:
        time.sleep(0.5)
    os.kill(first.pid, signal.SIGKILL)  # mid-stream: some events indexed, most articles not yet read
    first.wait()
    replay.join()
    second = stack.start_worker()
    stack.wait_ready(second, timeout=180)
    try:
        docs = stack.wait_for_docs(lambda d: identities(d) == want, timeout=300)
    except AssertionError:
        got = identities(stack.docs())
        extra = [sorted(a for a, _ in x[0]) for x in got - want]
        lost = [sorted(a for a, _ in x[0]) for x in want - got]
        raise AssertionError(f"extra {extra}; lost {lost}") from None
    assert len({d["event_id"] for d in docs}) == len(docs) == len(want)


def test_malformed_messages_go_to_the_dead_letter_topic(stack: Stack) -> None:
    worker = stack.start_worker()
    stack.wait_ready(worker)
    producer = KafkaProducer(bootstrap_servers=KAFKA, max_request_size=16 * 1024 * 1024, acks="all")
    topic = f"{stack.prefix}-articles"
    bad = [b"this is not json", json.dumps({"id": "no-text", "title": "x"}).encode(),
           json.dumps({"id": "huge", "text": "defected " * 1_200_000}).encode(), b"\xff\xfe\x00\x01binary\x80"]
    assert len(bad[2]) > 10_000_000
    for value in bad:
        producer.send(topic, key=b"k", value=value)
    good = {"id": "good-1", "published": "2024-03-12", "text": "Two Syrian colonels defected to Turkey on Monday."}
    producer.send(topic, key=b"good-1", value=json.dumps(good).encode())
    producer.flush()
    consumer = KafkaConsumer(f"{stack.prefix}-deadletter", bootstrap_servers=KAFKA, auto_offset_reset="earliest",
                             consumer_timeout_ms=1000, group_id=f"{stack.prefix}-check")
    letters: list[dict[str, object]] = []
    deadline = time.monotonic() + 120
    while len(letters) < len(bad) and time.monotonic() < deadline:
        letters += [json.loads(m.value) for m in consumer]
    consumer.close()
    reasons = " | ".join(str(x["reason"]) for x in letters)
    assert len(letters) == len(bad), reasons
    for expected in ("not JSON", "missing field 'text'", "over the", "not UTF-8"):
        assert expected in reasons
    assert worker.poll() is None  # still up
    stack.wait_for_docs(lambda d: any(s["article_id"] == "good-1" for doc in d for s in doc["sources"]))  # type: ignore[attr-defined]


def test_elasticsearch_outage_is_retried_and_the_backlog_drains(stack: Stack, shared: Path,
                                                                extractor: Extractor) -> None:
    seeds = shared / "corpus" / "seeds.jsonl"
    want = set(embedded_canonical(extractor, seeds))
    proxy = TcpProxy(("127.0.0.1", 9200))
    proxy.start()
    worker = stack.start_worker(DEFWATCH_ELASTICSEARCH=f"http://127.0.0.1:{proxy.port}")
    stack.wait_ready(worker)
    proxy.cut()
    stack.replay(seeds)
    log = stack.tmp / "worker0.log"
    deadline = time.monotonic() + 120
    while b"elasticsearch: writing" not in log.read_bytes() and time.monotonic() < deadline:
        time.sleep(1)
    assert b"elasticsearch: writing" in log.read_bytes()
    assert stack.docs() == [] and worker.poll() is None
    proxy.start()
    stack.wait_for_docs(lambda d: identities(d) == want, timeout=180)


def test_wire_copies_are_linked_not_extracted_again(stack: Stack, tmp_path: Path) -> None:
    from ..test_ingester import EDITED, STORY

    rows = [
        {"id": "w-a", "url": "https://a.example/story", "source": "a.example", "published": "2024-03-05",
         "text": STORY},
        {"id": "w-a2", "url": "https://www.a.example/story?utm_source=rss", "source": "a.example",
         "published": "2024-03-05", "text": STORY},
        {"id": "w-b", "url": "https://b.example/wire/1", "source": "b.example", "published": "2024-03-05",
         "text": EDITED},
        {"id": "w-c", "url": "https://c.example/world/2", "source": "c.example", "published": "2024-03-05",
         "text": STORY},
    ]
    path = tmp_path / "wire.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    worker = stack.start_worker()
    stack.wait_ready(worker)
    stack.replay(path)
    docs = stack.wait_for_docs(lambda d: bool(d) and all(x["corroboration"] == 3 for x in d))
    for d in docs:
        assert {s["article_id"] for s in d["sources"]} == {"w-a", "w-b", "w-c"}  # type: ignore[attr-defined]
    log = (stack.tmp / "worker0.log").read_text()
    assert "article w-a:" in log and "article w-b:" not in log and "article w-c:" not in log  # extracted once
