"""Benchmark the distributed path on the engines of deploy/engines (``make bench-stream`` starts them).

1. Produce-to-searchable: a worker runs; articles are produced at a fixed rate (default 20/s) for a
   fixed time; for every article that reports a defection, the time from produce to the event being
   searchable in Elasticsearch. Prints sustained throughput and latency p50/p99 (target p99 <= 2 s at
   20 articles/s on the 2-core reference machine).
2. Faust overhead: the same preloaded topic consumed and re-produced by a pass-through Faust agent and
   by a bare aiokafka consume-produce loop. Prints the ratio (target >= 0.7x).

    python bench/stream_speed.py --shared ../shared [--rate 20] [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

KAFKA = os.environ.get("DEFWATCH_KAFKA", "127.0.0.1:9092")
ES = os.environ.get("DEFWATCH_ELASTICSEARCH", "http://127.0.0.1:9200")


def _articles(shared: Path) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    def load(name: str) -> list[dict[str, object]]:
        rows = [json.loads(x) for x in (shared / "corpus" / name).read_text().splitlines() if x.strip()]
        return [{k: v for k, v in r.items() if k != "events"} | {"_gold": r.get("events")} for r in rows]

    gold = load("seeds.jsonl") + load("dev.jsonl")
    defection = [a for a in gold if any(e["status"] == "reported" for e in a.pop("_gold") or [])]  # type: ignore[attr-defined]
    background = load("background.jsonl")
    for a in background:
        a.pop("_gold", None)
    return defection, background


def latency(shared: Path, rate: float, seconds: float, defection_share: float, tmp: Path) -> None:
    from elasticsearch import Elasticsearch, NotFoundError
    from kafka import KafkaProducer

    prefix = "bench" + uuid.uuid4().hex[:8]
    env = {**os.environ, "DEFWATCH_KAFKA": KAFKA, "DEFWATCH_ELASTICSEARCH": ES, "DEFWATCH_TOPIC_PREFIX": prefix,
           "DEFWATCH_ES_PREFIX": prefix, "DEFWATCH_DATA_DIR": str(tmp), "DEFWATCH_FEEDS": "none"}
    log = open(tmp / "worker.log", "wb")  # noqa: SIM115
    worker = subprocess.Popen([sys.executable, "-m", "streams.cli", "worker", "--loglevel", "info"], env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    es = Elasticsearch(ES, request_timeout=30)
    index = f"{prefix}-events"
    try:
        while b"Worker]: Ready" not in (tmp / "worker.log").read_bytes():
            if worker.poll() is not None:
                raise SystemExit("worker exited:\n" + (tmp / "worker.log").read_text()[-2000:])
            time.sleep(0.5)
        defection, background = _articles(shared)
        from extractors import Article, Extractor

        ex = Extractor()
        reports = {str(a["id"]) for a, evs in ((a, ex.extract(Article.model_validate(a))) for a in defection) if evs}
        defection = [a for a in defection if a["id"] in reports]
        rng = random.Random(1)
        producer = KafkaProducer(bootstrap_servers=KAFKA, acks="all", linger_ms=0)
        sent_at: dict[str, float] = {}
        seen: dict[str, float] = {}
        done = threading.Event()

        def watch() -> None:  # polls Elasticsearch while articles are produced
            while not done.is_set():
                if es.indices.exists(index=index):
                    es.indices.refresh(index=index)
                    res = es.search(index=index, size=10_000, source=["sources.article_id"],
                                    query={"match_all": {}})
                    now = time.time()
                    for hit in res["hits"]["hits"]:
                        for s in hit["_source"]["sources"]:
                            if s["article_id"] in sent_at and s["article_id"] not in seen:
                                seen[s["article_id"]] = now
                time.sleep(0.05)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        n = int(rate * seconds)
        start = time.monotonic()
        for i in range(n):
            pick = rng.choice(defection) if rng.random() < defection_share else rng.choice(background)
            aid = f"{pick['id']}#{i}"
            art = dict(pick, id=aid)
            if pick in defection:
                sent_at[aid] = time.time()
            producer.send(f"{prefix}-articles", key=aid.encode(), value=json.dumps(art).encode())
            ahead = (i + 1) / rate - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(ahead)
        producer.flush()
        produced = time.monotonic() - start
        deadline = time.monotonic() + 120
        while len(seen) < len(sent_at) and time.monotonic() < deadline:
            time.sleep(0.1)
        done.set()
        watcher.join()
        total = time.monotonic() - start
        lat = sorted(seen[a] - sent_at[a] for a in seen)
        print(f"produce-to-searchable: {n} articles at {rate:g}/s over {produced:.1f}s, "
              f"{len(sent_at)} with defections, {len(seen)} searchable; sustained {n / total:.1f} articles/s")
        if lat:
            p50 = statistics.median(lat)
            p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))]
            print(f"    latency p50 {p50:.2f}s  p99 {p99:.2f}s  (target p99 <= 2 s at 20 articles/s)")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
        for idx in es.indices.get(index=f"{prefix}-*", expand_wildcards="all").body:
            es.indices.delete(index=idx)
        with contextlib.suppress(NotFoundError):
            for t in es.indices.get_index_template(name=f"{prefix}-*").body.get("index_templates", []):
                es.indices.delete_index_template(name=t["name"])


def _preload(topic: str, n: int, size: int) -> None:
    from kafka import KafkaProducer

    p = KafkaProducer(bootstrap_servers=KAFKA, acks=1, linger_ms=20, batch_size=256 * 1024)
    payload = b"x" * size
    for i in range(n):
        p.send(topic, key=str(i).encode(), value=payload)
    p.flush()
    p.close()


async def _bare(src: str, dst: str, n: int) -> float:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    consumer = AIOKafkaConsumer(src, bootstrap_servers=KAFKA, group_id=f"bare-{uuid.uuid4().hex[:6]}",
                                auto_offset_reset="earliest", enable_auto_commit=True)
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA)
    await consumer.start()
    await producer.start()
    try:
        count = 0
        start = time.monotonic()
        async for msg in consumer:
            await producer.send(dst, key=msg.key, value=msg.value)
            count += 1
            if count >= n:
                break
        await producer.flush()
        return time.monotonic() - start
    finally:
        await consumer.stop()
        await producer.stop()


def _faust_passthrough(src: str, dst: str, n: int, tmp: Path) -> float:
    """Run a pass-through Faust worker in a child process; returns its consume-produce time."""
    out = tmp / "faust_time.txt"
    code = f"""
import time, faust, sys
app = faust.App('pt-{uuid.uuid4().hex[:6]}', broker='kafka://{KAFKA}', web_enabled=False, datadir='{tmp}/pt',
                topic_partitions=4, consumer_auto_offset_reset='earliest', stream_buffer_maxsize=8192,
                consumer_max_fetch_size=16 * 1024 * 1024, broker_max_poll_records=5000)
src = app.topic('{src}', key_type=bytes, value_type=bytes, key_serializer='raw', value_serializer='raw')
dst = app.topic('{dst}', key_type=bytes, value_type=bytes, key_serializer='raw', value_serializer='raw')
state = {{'n': 0, 't': None}}
@app.agent(src)
async def passthrough(stream):
    # batched like the defwatch agents (take), sends handed to the producer without waiting on each
    async for batch in stream.take(1000, within=0.05):
        if state['t'] is None:
            state['t'] = time.monotonic()
        for value in batch:
            dst.send_soon(value=value)
        state['n'] += len(batch)
        if state['n'] >= {n}:
            await app.producer.flush()
            open('{out}', 'w').write(str(time.monotonic() - state['t']))
            sys.exit(0)
if __name__ == '__main__':
    faust.Worker(app, loglevel='error', quiet=True).execute_from_commandline()
"""
    script = tmp / "passthrough.py"
    script.write_text(code)
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not out.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
    if not out.exists():
        raise SystemExit("the Faust pass-through did not finish")
    return float(out.read_text())


def overhead(n: int, size: int, tmp: Path) -> None:
    from kafka.admin import KafkaAdminClient, NewTopic

    tag = uuid.uuid4().hex[:6]
    src, dst_a, dst_b = f"pt-src-{tag}", f"pt-bare-{tag}", f"pt-faust-{tag}"
    admin = KafkaAdminClient(bootstrap_servers=KAFKA)
    admin.create_topics([NewTopic(t, num_partitions=4, replication_factor=1) for t in (src, dst_a, dst_b)])
    _preload(src, n, size)
    bare = asyncio.run(_bare(src, dst_a, n))
    faust_t = _faust_passthrough(src, dst_b, n, tmp)
    admin.delete_topics([src, dst_a, dst_b])
    print(f"consume-produce of {n} messages of {size} bytes: bare aiokafka {n / bare:.0f} msg/s, "
          f"Faust {n / faust_t:.0f} msg/s, ratio {bare / faust_t:.2f}x (target >= 0.7x)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default="../shared", type=Path)
    ap.add_argument("--rate", type=float, default=20.0)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--defection-share", type=float, default=0.2)
    ap.add_argument("--messages", type=int, default=20_000)
    a = ap.parse_args()
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"defwatch-bench-{uuid.uuid4().hex[:6]}"
    tmp.mkdir(parents=True)
    latency(a.shared, a.rate, a.seconds, a.defection_share, tmp)
    overhead(a.messages, 2000, tmp)


if __name__ == "__main__":
    main()
