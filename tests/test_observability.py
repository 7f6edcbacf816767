"""Metrics on a running process, and the Prometheus rules and Grafana board that read them."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from faust.sensors.prometheus import FaustMetrics
from prometheus_client import CollectorRegistry

from streams.metrics import Metrics

ROOT = Path(__file__).resolve().parents[1]


def metric_names() -> set[str]:
    reg = CollectorRegistry()
    Metrics(reg)
    FaustMetrics.create(reg, "defwatch_faust")
    names = set()
    for fam in reg.collect():
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"], "gauge": [""]}
        names |= {fam.name + s for s in suffixes.get(fam.type, [""])}
    return names


KNOWN = metric_names()


def used(expr: str) -> set[str]:
    return set(re.findall(r"\b(defwatch_[a-z_]+)\b", expr))


def test_alerting_rules_parse_and_use_real_metrics() -> None:
    doc = yaml.safe_load((ROOT / "deploy" / "prometheus" / "defwatch-rules.yml").read_text())
    rules = [r for g in doc["groups"] for r in g["rules"]]
    names = {r["alert"] for r in rules}
    assert {"DefwatchStageStalled", "DefwatchDeadLettersRising", "DefwatchConsumerLagGrowing",
            "DefwatchFeedStale"} <= names
    for r in rules:
        assert r["expr"].strip() and r["labels"]["severity"] in ("page", "warn") and r["annotations"]["summary"]
        assert used(r["expr"]) and used(r["expr"]) <= KNOWN, (r["alert"], used(r["expr"]) - KNOWN)
        assert r["expr"].count("(") == r["expr"].count(")"), r["alert"]


def test_promtool_checks_the_rules_when_available() -> None:
    promtool = os.environ.get("DEFWATCH_PROMTOOL") or shutil.which("promtool")
    if not promtool:
        pytest.skip("promtool not found (`make tools` builds it from the Go module proxy into .tools/bin; it "
                    "could not here) - the rules were parsed and their metrics checked above")
    res = subprocess.run([promtool, "check", "rules", str(ROOT / "deploy" / "prometheus" / "defwatch-rules.yml")],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr


def test_scrape_config_loads_the_rules_file() -> None:
    doc = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    assert doc["rule_files"] == ["defwatch-rules.yml"] and doc["scrape_configs"]


def test_grafana_board_queries_real_metrics() -> None:
    board = json.loads((ROOT / "deploy" / "grafana" / "defwatch-dashboard.json").read_text())
    exprs = [t["expr"] for p in board["panels"] for t in p["targets"]]
    assert len(exprs) >= 10
    for e in exprs:
        assert used(e) <= KNOWN, used(e) - KNOWN
    covered = set().union(*map(used, exprs))
    for family in ("defwatch_articles_ingested_total", "defwatch_prefilter_articles_total",
                   "defwatch_extraction_seconds_bucket", "defwatch_alerts_total", "defwatch_deadletters_total",
                   "defwatch_feed_last_success_timestamp_seconds", "defwatch_faust_topic_partition_end_offset"):
        assert family in covered, family


# -- a real process -------------------------------------------------------------------------------------

RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>http://x/</link>
<description>d</description>{items}</channel></rss>"""
ITEM = """<item><title>{title}</title><link>http://news.invalid/{n}</link><guid>{n}</guid>
<pubDate>Tue, 05 Mar 2024 10:00:00 GMT</pubDate><description>{text}</description></item>"""


class Feed:
    def __init__(self) -> None:
        self.items: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                body = RSS.format(items="".join(owner.items)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/rss"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def scrape(port: int) -> dict[str, float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def total(samples: dict[str, float], prefix: str) -> float:
    return sum(v for k, v in samples.items() if k.startswith(prefix))


@pytest.fixture()
def running(tmp_path: Path) -> Iterator[tuple[Feed, int, subprocess.Popen[bytes]]]:
    feed, port = Feed(), free_port()
    env = {**os.environ, "DEFWATCH_DATA_DIR": str(tmp_path), "DEFWATCH_FEEDS": feed.url,
           "DEFWATCH_POLL_INTERVAL": "1", "DEFWATCH_METRICS_PORT": str(port)}
    proc = subprocess.Popen([sys.executable, "-m", "streams.cli", "run", "--no-sample"], env=env, cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=(tmp_path / "run.log").open("wb"))
    yield feed, port, proc
    proc.terminate()
    proc.wait(timeout=60)
    feed.server.shutdown()


def wait_for(port: int, proc: subprocess.Popen[bytes], ok: object, timeout: float = 120) -> dict[str, float]:
    deadline = time.monotonic() + timeout
    samples: dict[str, float] = {}
    while time.monotonic() < deadline:
        assert proc.poll() is None, "defwatch run exited"
        try:
            samples = scrape(port)
        except OSError:
            time.sleep(0.5)
            continue
        if ok(samples):  # type: ignore[operator]
            return samples
        time.sleep(0.5)
    raise AssertionError(f"metrics did not move: {samples}")


def test_counters_move_as_articles_flow(running: tuple[Feed, int, subprocess.Popen[bytes]]) -> None:
    feed, port, proc = running
    before = wait_for(port, proc, lambda s: "defwatch_feed_last_success_timestamp_seconds" in str(s))
    assert total(before, "defwatch_articles_ingested_total") == 0
    feed.items = [
        ITEM.format(n=1, title="Two colonels defect", text="Two Syrian army colonels defected to Turkey on "
                    "Monday, officials said, the latest senior officers to abandon the government."),
        ITEM.format(n=2, title="Rain in the capital", text="Heavy rain fell across the capital on Monday and "
                    "roads were closed for several hours."),
    ]
    after = wait_for(port, proc, lambda s: total(s, "defwatch_articles_ingested_total") >= 2
                     and total(s, "defwatch_reports_total") >= 1)
    assert after['defwatch_prefilter_articles_total{result="pass"}'] >= 1
    assert after['defwatch_prefilter_articles_total{result="drop"}'] >= 1
    assert after["defwatch_extraction_seconds_count"] >= 2
    assert total(after, "defwatch_events_total") >= 1
    assert after['defwatch_store_write_seconds_count{sink="sqlite"}'] >= 2
    assert total(after, 'defwatch_feed_items_total') >= 2
