"""Fixtures for the tests that run on the real engines started by deploy/engines/up.sh (``make test``
starts them; a missing engine fails these tests, it never skips them)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch, NotFoundError

KAFKA = os.environ.get("DEFWATCH_TEST_KAFKA", "127.0.0.1:9092")
ES = os.environ.get("DEFWATCH_TEST_ES", "http://127.0.0.1:9200")


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def engines() -> None:
    host, port = KAFKA.split(":")
    missing = [name for name, (h, p) in {"kafka": (host, int(port)), "elasticsearch": ("127.0.0.1", 9200)}.items()
               if not _port_open(h, p)]
    if missing:
        pytest.fail(f"engines not running ({', '.join(missing)}): start them with `make engines-up`")


class Stack:
    """One isolated deployment: its own topic prefix, consumer group and index."""

    def __init__(self, tmp: Path, es_url: str = ES) -> None:
        self.prefix = "t" + uuid.uuid4().hex[:10]
        self.index = f"{self.prefix}-events"
        self.tmp = tmp
        self.es_url = es_url
        self.es = Elasticsearch(ES, request_timeout=30)
        self.workers: list[subprocess.Popen[bytes]] = []
        self.started = 0
        self.logs: dict[int, Path] = {}

    def env(self, **extra: str) -> dict[str, str]:
        env = {**os.environ, "DEFWATCH_KAFKA": KAFKA, "DEFWATCH_ELASTICSEARCH": self.es_url,
               "DEFWATCH_TOPIC_PREFIX": self.prefix, "DEFWATCH_ES_PREFIX": self.prefix,
               "DEFWATCH_DATA_DIR": str(self.tmp), "DEFWATCH_FEEDS": "none", "DEFWATCH_METRICS_PORT": "0"}
        env.update(extra)
        return env

    def start_worker(self, **extra: str) -> subprocess.Popen[bytes]:
        n = len(self.workers)
        self.started += 1
        name = f"worker{n}.log" if self.started == n + 1 else f"worker{n}-run{self.started}.log"
        log = open(self.tmp / name, "wb")  # noqa: SIM115 - owned by the process
        proc = subprocess.Popen([sys.executable, "-m", "streams.cli", "worker", "--loglevel", "info"],
                                env=self.env(**extra), stdout=log, stderr=subprocess.STDOUT)
        self.workers.append(proc)
        self.logs[proc.pid] = self.tmp / name
        return proc

    def wait_ready(self, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
        path = self.logs[proc.pid]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"worker exited: {path.read_text(errors='replace')[-3000:]}")
            if b"Worker]: Ready" in path.read_bytes():
                return
            time.sleep(0.5)
        raise AssertionError(f"worker not ready in {timeout}s: {path.read_text(errors='replace')[-3000:]}")

    def replay(self, path: Path | str, *args: str) -> None:
        subprocess.run([sys.executable, "-m", "streams.cli", "ingest", "replay", str(path), *args],
                       env=self.env(), check=True, capture_output=True)

    def docs(self) -> list[dict[str, object]]:
        if not self.es.indices.exists_alias(name=self.index):
            return []
        self.es.indices.refresh(index=self.index)
        res = self.es.search(index=self.index, size=1000, query={"match_all": {}})
        return [h["_source"] for h in res["hits"]["hits"]]

    def wait_for_docs(self, want: Callable[[list[dict[str, object]]], bool],
                      timeout: float = 180) -> list[dict[str, object]]:
        deadline = time.monotonic() + timeout
        docs: list[dict[str, object]] = []
        while time.monotonic() < deadline:
            docs = self.docs()
            if want(docs):
                return docs
            time.sleep(1)
        logs = "\n".join(p.read_text(errors="replace")[-2000:] for p in self.logs.values())
        raise AssertionError(f"timed out; {len(docs)} docs in {self.index}\n{logs}")

    def stop(self) -> None:
        for w in self.workers:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
        for w in self.workers:
            try:
                w.wait(timeout=30)
            except subprocess.TimeoutExpired:
                w.kill()


@pytest.fixture()
def stack(engines: None, tmp_path: Path) -> Iterator[Stack]:
    s = Stack(tmp_path)
    yield s
    s.stop()
    drop_es(s.es, s.prefix)


def drop_es(es: Elasticsearch, prefix: str) -> None:
    """Delete a test deployment's indices and templates (wildcard deletes are refused by default)."""
    for index in es.indices.get(index=f"{prefix}-*", expand_wildcards="all").body:
        es.indices.delete(index=index)
    try:
        found = es.indices.get_index_template(name=f"{prefix}-*").body.get("index_templates", [])
    except NotFoundError:  # no template matches
        found = []
    for t in found:
        es.indices.delete_index_template(name=t["name"])


class TcpProxy:
    """A loopback TCP forwarder that can be cut and restored, to make Elasticsearch unreachable."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.sock: socket.socket | None = None
        self.port = 0
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()

    def start(self) -> None:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(64)
        self.port = s.getsockname()[1]
        self.sock = s
        threading.Thread(target=self._accept, args=(s,), daemon=True).start()

    def _accept(self, s: socket.socket) -> None:
        while True:
            try:
                client, _ = s.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for x in (a, b):
                with contextlib.suppress(OSError):
                    x.close()

    def cut(self) -> None:
        if self.sock:
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            self.sock.close()
            self.sock = None
        with self.lock:
            for c in self.conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                    c.close()
                except OSError:
                    pass
            self.conns.clear()
