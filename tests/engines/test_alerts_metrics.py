"""Alerts and metrics of the distributed mode on the real engines."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from kafka import KafkaProducer

from ..receiver import Receiver
from ..test_observability import free_port, scrape, total
from .conftest import KAFKA, Stack

pytestmark = pytest.mark.engines


def redeliver(stack: Stack, path: Path) -> None:
    producer = KafkaProducer(bootstrap_servers=KAFKA, acks="all")
    for line in path.read_bytes().splitlines():
        if line.strip():
            producer.send(f"{stack.prefix}-articles", key=json.loads(line)["id"].encode(), value=line)
    producer.flush()
    producer.close()


def test_one_alert_per_event_across_duplicates_and_restarts_and_metrics_move(stack: Stack, shared: Path,
                                                                             tmp_path: Path) -> None:
    receiver = Receiver().start()
    rules = tmp_path / "rules.toml"
    rules.write_text(f'[[targets]]\nname = "hook"\nurl = "{receiver.url}"\nsecret_env = "HOOK_SECRET"\n'
                     'allow_private = true\n\n[[rules]]\nname = "senior"\nmin_rank = "colonel"\n'
                     'targets = ["hook"]\n')
    port = free_port()
    env = {"DEFWATCH_ALERT_RULES": str(rules), "HOOK_SECRET": "k", "DEFWATCH_METRICS_PORT": str(port)}
    try:
        worker = stack.start_worker(**env)
        stack.wait_ready(worker)
        seeds = shared / "corpus" / "seeds.jsonl"
        stack.replay(seeds)
        redeliver(stack, seeds)  # every article again, past the ingester: the worker sees duplicates
        deadline = time.monotonic() + 120
        while not receiver.requests and time.monotonic() < deadline:
            time.sleep(1)
        assert receiver.requests, "no alert arrived"
        samples = scrape(port)
        while total(samples, "defwatch_articles_ingested_total") < 8 and time.monotonic() < deadline + 60:
            time.sleep(1)
            samples = scrape(port)
        assert total(samples, "defwatch_articles_ingested_total") >= 8
        assert total(samples, "defwatch_reports_total") >= 1
        assert total(samples, 'defwatch_alerts_total{kind="new",outcome="sent",target="hook"}') >= 1
        assert any(k.startswith("defwatch_faust_topic_partition_end_offset") for k in samples)
        time.sleep(5)
        stack.stop()
        stack.workers.clear()
        again = stack.start_worker(**env)  # a restart, then the same articles once more
        stack.wait_ready(again)
        stack.replay(seeds)
        time.sleep(15)
        events = [json.loads(r.body)["event"]["event_id"] for r in receiver.requests]
        assert len(events) == len(set(events)), events  # exactly one alert per event and target
        docs = {d["event_id"]: d for d in stack.docs()}
        assert set(events) <= set(docs)
        assert all(docs[e]["seniority"] >= 0.5 for e in events)
    finally:
        receiver.stop()
