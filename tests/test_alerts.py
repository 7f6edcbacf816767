from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from extractors import DefectionEvent, Defector, Source
from streams.alerts import Alerter, AlertRecord, SqliteLedger
from streams.metrics import Metrics
from streams.netguard import check_address
from streams.rules import Rule, RuleSet, Target
from streams.signing import verify

from .receiver import Receiver

SECRET = "s3cret-for-tests"
ENV = {"DEFWATCH_SECRET_T": SECRET}


def event(eid: str = "ev-1", corroboration: int = 1, rank: str = "brigadier general", seniority: float = 0.6,
          status: str = "reported", sector: str = "military") -> DefectionEvent:
    return DefectionEvent(event_id=eid, status=status, sector=sector,  # type: ignore[arg-type]
                          defectors=[Defector(name="Omar Haddad", rank=rank)], from_="Syria", to="Turkey",
                          evidence="Brig. Gen. Omar Haddad defected to Turkey.", confidence=0.8,
                          seniority=seniority, corroboration=corroboration,
                          sources=[Source(article_id=f"a{i}", url=f"https://news.example/{i}")
                                   for i in range(corroboration)])


def rules(url: str, *, updates: bool = False, allow_private: bool = True, attempts: int = 4,
          fmt: str = "json") -> RuleSet:
    return RuleSet(targets=(Target(name="t", url=url, secret_env="DEFWATCH_SECRET_T", allow_private=allow_private,
                                   max_attempts=attempts, timeout=5, format=fmt),),  # type: ignore[arg-type]
                   rules=(Rule(name="senior", min_rank="colonel", targets=("t",), updates=updates),))


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


def alerter(tmp_path: Path, rs: RuleSet, metrics: Metrics | None = None) -> tuple[Alerter, SqliteLedger]:
    ledger = SqliteLedger(tmp_path / "alerts.sqlite3")
    return Alerter(rs, ledger, metrics, log=lambda m: None, env=ENV, base_delay=0.01), ledger


def settle(a: Alerter, ledger: SqliteLedger) -> list[AlertRecord]:
    a.close(wait=True)
    return ledger.all()


def test_signed_payload_with_event_evidence_sources_and_rule(tmp_path: Path, receiver: Receiver) -> None:
    a, ledger = alerter(tmp_path, rules(receiver.url))
    a.on_event(event())
    [rec] = settle(a, ledger)
    assert rec.status == "sent" and rec.attempts == 1
    [req] = receiver.requests
    assert verify(SECRET.encode(), req.headers["X-Defwatch-Timestamp"], req.body, req.headers["X-Defwatch-Signature"])
    assert not verify(b"wrong", req.headers["X-Defwatch-Timestamp"], req.body, req.headers["X-Defwatch-Signature"])
    assert not verify(SECRET.encode(), req.headers["X-Defwatch-Timestamp"], req.body + b" ",
                      req.headers["X-Defwatch-Signature"])
    body = json.loads(req.body)
    assert body["delivery_id"] == req.headers["X-Defwatch-Delivery"] == rec.delivery_id
    assert body["rule"] == "senior" and body["kind"] == "new" and body["event"]["from"] == "Syria"
    assert body["evidence"].startswith("Brig. Gen.") and body["sources"][0]["url"] == "https://news.example/0"


def test_slack_format_is_a_text_message(tmp_path: Path, receiver: Receiver) -> None:
    a, ledger = alerter(tmp_path, rules(receiver.url, fmt="slack"))
    a.on_event(event())
    settle(a, ledger)
    text = json.loads(receiver.requests[0].body)["text"]
    assert "Omar Haddad (brigadier general) from Syria to Turkey" in text and "https://news.example/0" in text


def test_one_alert_per_event_across_duplicates_and_restarts(tmp_path: Path, receiver: Receiver) -> None:
    a, ledger = alerter(tmp_path, rules(receiver.url))
    a.on_event(event())
    a.on_event(event())
    a.on_event(event(corroboration=3))  # more outlets, but this rule does not send updates
    settle(a, ledger)
    b, ledger2 = alerter(tmp_path, rules(receiver.url))  # a restart on the same ledger
    b.on_event(event())
    settle(b, ledger2)
    assert len(receiver.requests) == 1


def test_update_alert_when_corroboration_or_seniority_rises(tmp_path: Path, receiver: Receiver) -> None:
    a, ledger = alerter(tmp_path, rules(receiver.url, updates=True))
    a.on_event(event())
    a.on_event(event())  # same again: nothing
    a.on_event(event(corroboration=2))
    a.on_event(event(corroboration=2))
    settle(a, ledger)
    kinds = [json.loads(r.body)["kind"] for r in receiver.requests]
    assert kinds == ["new", "update"]


def test_retry_then_success_honours_retry_after(tmp_path: Path, receiver: Receiver) -> None:
    receiver.answer = lambda n: (503, {"Retry-After": "0"}) if n < 2 else (200, {})
    metrics = Metrics()
    a, ledger = alerter(tmp_path, rules(receiver.url), metrics)
    a.on_event(event())
    [rec] = settle(a, ledger)
    assert rec.status == "sent" and rec.attempts == 3 and len(receiver.requests) == 3
    assert len({r.headers["X-Defwatch-Delivery"] for r in receiver.requests}) == 1  # one delivery, retried
    assert metrics.alerts.labels(target="t", kind="new", outcome="retried")._value.get() == 2


def test_retry_then_dead_letter_with_the_last_error(tmp_path: Path, receiver: Receiver) -> None:
    receiver.answer = lambda n: (500, {})
    a, ledger = alerter(tmp_path, rules(receiver.url, attempts=3))
    a.on_event(event())
    [rec] = settle(a, ledger)
    assert rec.status == "dead" and rec.attempts == 3 and rec.last_error == "HTTP 500 Internal Server Error"
    assert len(receiver.requests) == 3


def test_client_errors_other_than_429_are_not_retried(tmp_path: Path, receiver: Receiver) -> None:
    receiver.answer = lambda n: (410, {})
    a, ledger = alerter(tmp_path, rules(receiver.url))
    a.on_event(event())
    [rec] = settle(a, ledger)
    assert rec.status == "dead" and len(receiver.requests) == 1 and "410" in (rec.last_error or "")


def test_private_targets_are_refused_unless_allowed(tmp_path: Path, receiver: Receiver) -> None:
    a, ledger = alerter(tmp_path, rules(receiver.url, allow_private=False))
    a.on_event(event())
    [rec] = settle(a, ledger)
    assert rec.status == "dead" and "refused" in (rec.last_error or "") and "loopback" in (rec.last_error or "")
    assert receiver.requests == []
    for ip in ("127.0.0.1", "10.1.2.3", "192.168.0.1", "169.254.169.254", "::1", "fd00::1", "0.0.0.0",
               "100.64.0.1", "::ffff:127.0.0.1"):
        assert check_address(ip), ip
    assert check_address("93.184.216.34") is None


def test_a_slow_receiver_does_not_block_the_caller(tmp_path: Path, receiver: Receiver) -> None:
    receiver.gate.clear()  # the receiver holds every answer until released
    a, ledger = alerter(tmp_path, rules(receiver.url))
    for i in range(5):
        a.on_event(event(eid=f"ev-{i}"))  # returns with deliveries in flight
    assert all(r.status == "pending" for r in ledger.all()) and len(ledger.all()) == 5
    receiver.gate.set()
    assert all(r.status == "sent" for r in settle(a, ledger))


def test_pending_alerts_are_resent_after_a_restart(tmp_path: Path, receiver: Receiver) -> None:
    receiver.gate.clear()
    a, ledger = alerter(tmp_path, rules(receiver.url))
    a.on_event(event())
    a.close(wait=False)  # the process "stops" with the delivery unanswered
    ledger.close()
    deadline = time.monotonic() + 10
    while not receiver.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    first_id = receiver.requests[0].headers["X-Defwatch-Delivery"]
    receiver.answer = lambda n: (200, {})
    b, ledger2 = alerter(tmp_path, rules(receiver.url))
    assert ledger2.all()[0].status == "pending"
    receiver.gate.set()
    assert b.resume() == 1
    assert [r.status for r in settle(b, ledger2)] == ["sent"]
    assert {r.headers["X-Defwatch-Delivery"] for r in receiver.requests} == {first_id}


def test_rules_without_targets_record_the_alert(tmp_path: Path) -> None:
    rs = RuleSet(rules=(Rule(name="senior", min_rank="colonel"),))
    a, ledger = alerter(tmp_path, rs)
    assert len(a.on_event(event())) == 1 and a.on_event(event()) == []
    assert [r.status for r in settle(a, ledger)] == ["recorded"]


def test_a_finished_delivery_never_overwrites_a_newer_claim(tmp_path: Path, receiver: Receiver) -> None:
    receiver.gate.clear()  # the "new" alert is still being delivered when the update is claimed
    a, _ledger = alerter(tmp_path, rules(receiver.url, updates=True))
    a.on_event(event())
    a.on_event(event(corroboration=2))
    receiver.gate.set()
    a.close(wait=True)
    b, ledger2 = alerter(tmp_path, rules(receiver.url, updates=True))
    b.on_event(event(corroboration=2))  # nothing new: the record says corroboration 2
    records = settle(b, ledger2)
    assert [r.corroboration for r in records] == [2]
    assert sorted(json.loads(r.body)["kind"] for r in receiver.requests) == ["new", "update"]


def test_an_unreadable_retry_after_falls_back_to_backoff(tmp_path: Path, receiver: Receiver) -> None:
    receiver.answer = lambda n: (503, {"Retry-After": "soon, maybe"}) if n == 0 else (200, {})
    a, ledger = alerter(tmp_path, rules(receiver.url))
    a.on_event(event())
    [rec] = settle(a, ledger)
    assert rec.status == "sent" and rec.attempts == 2
