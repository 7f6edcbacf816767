from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from extractors import Article, Extractor
from streams.embedded import EmbeddedRunner
from streams.inputs import InputError
from streams.push import PushServer
from streams.settings import Settings

from .test_observability import free_port

TOKEN = "t" * 24
GOOD = {"id": "p1", "url": "https://n.example/1", "title": "Colonel defects", "published": "2024-03-05",
        "text": "A Syrian army colonel defected to Turkey on Monday, officials said."}


@pytest.fixture()
def server() -> Iterator[tuple[PushServer, list[Article], list[InputError]]]:
    taken: list[Article] = []
    refused: list[InputError] = []
    s = PushServer(TOKEN, taken.extend, refused.append, port=0, max_bytes=64 * 1024, log=lambda m: None).start()
    yield s, taken, refused
    s.stop()


def post(url: str, body: bytes, headers: dict[str, str], method: str = "POST") -> tuple[int, dict[str, object]]:
    req = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def auth(**extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json", **extra}


def test_accepts_one_article_or_a_batch(server: tuple[PushServer, list[Article], list[InputError]]) -> None:
    s, taken, _ = server
    assert post(s.url + "/articles", json.dumps(GOOD).encode(), auth()) == (202, {"accepted": 1, "ids": ["p1"]})
    batch = [dict(GOOD, id="p2"), dict(GOOD, id="p3")]
    assert post(s.url + "/articles", json.dumps(batch).encode(), auth())[0] == 202
    assert [a.id for a in taken] == ["p1", "p2", "p3"]


@pytest.mark.parametrize(("headers", "body", "status", "says"), [
    ({"Content-Type": "application/json"}, json.dumps(GOOD).encode(), 401, "token"),
    ({"Authorization": "Bearer wrong-token-wrong-token", "Content-Type": "application/json"},
     json.dumps(GOOD).encode(), 401, "token"),
    ({"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/plain"}, b"hello", 415, "application/json"),
    (auth(), b"{not json", 400, "not JSON"),
    (auth(), json.dumps({"id": "x", "text": ""}).encode(), 422, "text"),
    (auth(), json.dumps([]).encode(), 422, "array"),
    (auth(), json.dumps(dict(GOOD, text="x" * 100_000)).encode(), 413, "limit"),
])
def test_clear_client_errors(server: tuple[PushServer, list[Article], list[InputError]], headers: dict[str, str],
                             body: bytes, status: int, says: str) -> None:
    s, taken, refused = server
    code, answer = post(s.url + "/articles", body, headers)
    assert code == status and says in json.dumps(answer)
    assert taken == []
    assert len(refused) == (1 if status == 422 and says == "text" else 0)  # only authenticated, parsed items


def test_other_paths_and_methods(server: tuple[PushServer, list[Article], list[InputError]]) -> None:
    s, _, _ = server
    assert post(s.url + "/elsewhere", b"{}", auth())[0] == 404
    assert post(s.url + "/articles", b"{}", auth(), method="PUT")[0] == 405
    with urllib.request.urlopen(s.url + "/healthz", timeout=5) as resp:
        assert resp.status == 200


def test_embedded_run_takes_pushed_articles(tmp_path: Path, extractor: Extractor) -> None:
    port = free_port()
    settings = Settings(data_dir=tmp_path, feeds=[], metrics_port=0, push_token=TOKEN, push_port=port)
    made: list[EmbeddedRunner] = []

    def run() -> None:  # the runner lives in its thread (its SQLite connections belong to it)
        made.append(EmbeddedRunner(settings, extractor=extractor, log=lambda m: None))
        made[0].run(sample=False, refresh=0.5)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    url = f"http://127.0.0.1:{port}/articles"
    deadline = time.monotonic() + 30
    while True:
        try:
            code, _ = post(url, json.dumps(GOOD).encode(), auth())
            break
        except OSError:
            assert time.monotonic() < deadline
            time.sleep(0.2)
    assert code == 202
    runner = made[0]
    while time.monotonic() < deadline:
        if runner.dedup.canonical():
            break
        time.sleep(0.2)
    runner.stop()
    t.join(timeout=30)
    assert [e.from_ for e in runner.dedup.canonical()] == ["Syria"]
