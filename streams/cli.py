"""The ``defwatch`` command line."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from extractors import Article, Deduplicator, Extractor, Window
from extractors.pipeline import ModelNotFound
from streams.feeds import FeedsError
from streams.inputs import InputError, count_lines, describe, read_input
from streams.progress import Progress
from streams.rules import RulesError
from streams.settings import Settings, SettingsError

if TYPE_CHECKING:
    from streams.ingest import IngestService
    from streams.metrics import Metrics
from streams.stages import process


def _err(msg: str) -> None:
    print(f"defwatch: {msg}", file=sys.stderr, flush=True)


def cmd_extract(args: argparse.Namespace, settings: Settings) -> int:
    try:
        items = read_input(args.input)
        first = next(items, None)
    except OSError as exc:
        _err(f"cannot read {args.input}: {exc}")
        return 2
    extractor = Extractor(model=settings.spacy_model, batch_size=settings.batch_size)
    dedup = Deduplicator(Window(group_days=settings.dedup_window))
    progress = Progress(count_lines(args.input)) if not args.quiet else None
    out = open(args.output, "w", encoding="utf-8") if args.output != "-" else sys.stdout  # noqa: SIM115
    bad = events = 0
    lines: list[tuple[str, list[dict[str, object]]]] = []
    try:
        def all_items() -> Iterator[Article | InputError]:
            if first is not None:
                yield first
            yield from items

        for res in process(extractor, dedup, all_items()):
            if isinstance(res, InputError):
                bad += 1
                _err(f"skipped {res}")
                if progress:
                    progress.step(error=True)
                continue
            events += len(res.reports)
            lines.append((res.article.id, [r.to_json_dict() for r in res.reports]))
            if progress:
                progress.step()
        # Event ids as they stand after the whole input (a later report can join two events into one).
        for aid, reps in lines:
            for r in reps:
                r["event_id"] = dedup.resolve(str(r["event_id"]))
            out.write(json.dumps({"id": aid, "events": reps}, ensure_ascii=False) + "\n")
    except OSError as exc:
        _err(f"cannot read {args.input}: {exc}")
        return 2
    finally:
        if out is not sys.stdout:
            out.close()
        if progress:
            progress.close()
    if not args.quiet:
        print(f"defwatch: {events} events, {len(dedup.canonical())} after de-duplication, {bad} bad input "
              f"record(s)", file=sys.stderr)
    return 0


def _find_scorer(gold: Path, explicit: str | None) -> Path | None:
    candidates = [Path(explicit)] if explicit else []
    candidates += [gold.resolve().parent.parent / "eval" / "score.py",
                   Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "score.py"]
    return next((c for c in candidates if c.is_file()), None)


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    gold = Path(args.gold)
    with tempfile.TemporaryDirectory() as tmp:
        pred = Path(args.output) if args.output else Path(tmp) / "pred.jsonl"
        ns = argparse.Namespace(input=str(gold), output=str(pred), quiet=args.quiet)
        rc = cmd_extract(ns, settings)
        if rc:
            return rc
        scorer = _find_scorer(gold, args.scorer)
        if scorer is None:
            _err("scorer not found (looked for ../shared/eval/score.py); predictions written, not scored")
            return 0
        cmd = [sys.executable, str(scorer), str(gold), str(pred)] + (["--explain"] if args.explain else [])
        return subprocess.call(cmd)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    if settings.mode == "distributed":
        return _run_distributed(args, settings)
    from streams.embedded import EmbeddedRunner

    runner = EmbeddedRunner(settings)
    return runner.run(once=args.once, sample=not args.no_sample)


def _run_distributed(args: argparse.Namespace, settings: Settings) -> int:
    """Distributed ``run``: a Faust worker, with the sample feed and the live feeds published to Kafka
    from a background thread."""
    import threading

    from streams.app import run_worker
    from streams.embedded import SAMPLE_FEED
    from streams.metrics import Metrics

    if not settings.kafka:
        _err("DEFWATCH_ELASTICSEARCH is set without DEFWATCH_KAFKA: the distributed mode needs both")
        return 2
    metrics = Metrics()  # one registry for the ingester thread and the worker, served on one port
    service = _ingest_service(settings, metrics)
    if service is None:
        return 2
    service.start_push()
    sample = read_input(str(SAMPLE_FEED)) if not args.no_sample and SAMPLE_FEED.exists() else iter(())
    threading.Thread(target=service.run_feeds, args=(sample,), name="feeds", daemon=True).start()
    try:
        return run_worker(settings, metrics=metrics)
    finally:
        service.close()


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.kafka:
        _err("defwatch worker needs DEFWATCH_KAFKA (and DEFWATCH_ELASTICSEARCH to index)")
        return 2
    from streams.app import run_worker

    return run_worker(settings, loglevel=args.loglevel)


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.kafka:
        _err("defwatch ingest needs DEFWATCH_KAFKA")
        return 2
    if args.ingest_command == "serve":
        return _ingest_serve(settings)
    from streams.ingest import publish
    from streams.metrics import Metrics, serve

    try:
        items = list(read_input(args.path))
    except OSError as exc:
        _err(f"cannot read {args.path}: {exc}")
        return 2
    metrics = Metrics()
    if args.rate:  # a paced replay runs for a while: serve /metrics meanwhile
        serve(metrics, settings.metrics_port, settings.metrics_host, _err)
    sent, bad = publish(settings, items, rate=args.rate, log=_err, metrics=metrics)
    print(f"defwatch: published {sent} article(s) to {settings.topic('articles')}, {bad} to "
          f"{settings.topic('deadletter')}", file=sys.stderr)
    return 0


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from pydantic import ValidationError

    from streams.display import event_rows
    from streams.search import SearchQuery, search_es, search_store

    try:
        q = SearchQuery(text=" ".join(args.query), since=args.since, until=args.until, country=args.country,
                        min_seniority=args.min_seniority, status=args.status, limit=args.limit)
    except ValidationError as exc:
        _err("bad search: " + describe(exc))
        return 2
    if settings.mode == "distributed":
        if not settings.elasticsearch:
            _err("search in the distributed mode needs DEFWATCH_ELASTICSEARCH")
            return 2
        from elasticsearch import ApiError, TransportError

        from streams.indexer import connect
        from streams.templates import Names

        try:
            found = search_es(connect(settings.elasticsearch), Names(settings.es_prefix).events_alias, q)
        except (ApiError, TransportError) as exc:
            _err(f"elasticsearch search failed: {exc}")
            return 1
    else:
        from streams.store import Store

        if not settings.store_path.exists():
            _err(f"no embedded store at {settings.store_path} yet: run `defwatch run` first")
            return 1
        with Store(settings.store_path) as store:
            found = search_store(store, q)
    if args.json:
        for e in found:
            print(json.dumps(e.to_json_dict(), ensure_ascii=False))
    else:
        print("\n".join(event_rows(found)))
        print(f"{len(found)} event(s){' (limit reached)' if len(found) == q.limit else ''}", file=sys.stderr)
    return 0


def cmd_kibana(args: argparse.Namespace, settings: Settings) -> int:
    from streams.kibana import KibanaError, import_objects, load
    from streams.templates import Names

    try:
        objects = load(Path(args.file) if args.file else None, Names(settings.es_prefix).events_alias)
        done = import_objects(args.url, objects, space=args.space, api_key=settings.kibana_api_key)
    except (KibanaError, OSError) as exc:
        _err(str(exc))
        return 1
    for obj in done:
        print(f"imported {obj.type:<14} {obj.id:<34} {obj.title}")
    print(f"defwatch: {len(done)} saved object(s) imported into {args.url}", file=sys.stderr)
    return 0


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.elasticsearch:
        _err("defwatch index needs DEFWATCH_ELASTICSEARCH")
        return 2
    from elasticsearch import ApiError, TransportError

    from streams import templates
    from streams.indexer import connect

    es, names = connect(settings.elasticsearch, timeout=60), templates.Names(settings.es_prefix)
    try:
        if args.index_command == "setup":
            caps = templates.ensure(es, names, settings.report_retention_days, _err)
            print(f"templates {names.events_index}, {names.prefix}-reports-v{names.version}; alias "
                  f"{names.events_alias} -> {names.events_index}; scaled_float: {caps.scaled_float}; "
                  f"ILM: {caps.ilm}")
        else:
            gone = templates.cleanup_reports(es, names, settings.report_retention_days, log=_err)
            print(f"deleted {len(gone)} report index(es)")
    except (ApiError, TransportError) as exc:
        _err(f"elasticsearch: {exc}")
        return 1
    return 0


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _seniority(value: str) -> float:
    from streams.search import seniority_arg

    try:
        return seniority_arg(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _ingest_service(settings: Settings, metrics: Metrics) -> IngestService | None:
    """The ingester, or None (said why) when Kafka cannot be reached or the feeds file is bad."""
    from kafka.errors import KafkaError

    from streams.feeds import FeedsError
    from streams.ingest import IngestService

    try:
        return IngestService(settings, _err, metrics)
    except KafkaError as exc:
        _err(f"cannot reach Kafka at {settings.kafka}: {exc}")
    except FeedsError as exc:
        _err(str(exc))
    return None


def _ingest_serve(settings: Settings) -> int:
    """Feeds and the push endpoint to Kafka until SIGINT/SIGTERM."""
    import signal
    import threading

    from streams.metrics import Metrics, serve

    metrics = Metrics()
    serve(metrics, settings.metrics_port, settings.metrics_host, _err)
    service = _ingest_service(settings, metrics)
    if service is None:
        return 2
    done = threading.Event()
    def stop(*_: object) -> None:
        done.set()
        service.stopping.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)
    service.start_push()
    feeds = threading.Thread(target=service.run_feeds, name="feeds", daemon=True)
    feeds.start()
    _err(f"ingesting {len(service.poller.feeds)} feed(s) to {settings.topic('articles')}"
         + (" and POST /articles" if settings.push_token else ""))
    done.wait()
    feeds.join(timeout=30)
    service.close()
    _err("ingester stopped")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="defwatch", description="Watch news for defections.")
    sub = p.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("extract", help="extract defection events from a corpus JSONL, a directory, or -")
    ex.add_argument("input", help="corpus JSONL file, directory of .txt/.html files, or - for JSONL on stdin")
    ex.add_argument("-o", "--output", default="-", help="predictions JSONL (default: stdout)")
    ex.add_argument("-q", "--quiet", action="store_true", help="no progress or summary on stderr")
    ev = sub.add_parser("eval", help="extract then score against gold events")
    ev.add_argument("gold")
    ev.add_argument("-o", "--output", help="also keep the predictions here")
    ev.add_argument("--scorer", help="path to score.py (default: ../shared/eval/score.py)")
    ev.add_argument("--explain", action="store_true", help="list every miss and false event")
    ev.add_argument("-q", "--quiet", action="store_true")
    run = sub.add_parser("run", help="run every stage (embedded mode unless Kafka/ES are configured)")
    run.add_argument("--once", action="store_true", help="process what is there and exit")
    run.add_argument("--no-sample", action="store_true", help="skip the bundled sample feed")
    wk = sub.add_parser("worker", help="run one Faust worker of the distributed mode")
    wk.add_argument("--loglevel", default="warning", choices=["debug", "info", "warning", "error"])
    ing = sub.add_parser("ingest", help="publish articles to Kafka")
    ing_sub = ing.add_subparsers(dest="ingest_command", required=True)
    rep = ing_sub.add_parser("replay", help="publish a corpus JSONL or a directory of .txt/.html/.jsonl")
    rep.add_argument("path")
    rep.add_argument("--rate", type=float, default=None, help="articles per second (default: as fast as possible)")
    ing_sub.add_parser("serve", help="poll the feeds (and serve POST /articles if DEFWATCH_PUSH_TOKEN is set), "
                                     "publishing to Kafka, until stopped")
    se = sub.add_parser("search", help="search the events (the embedded store, or Elasticsearch when configured)")
    se.add_argument("query", nargs="*", help="words that must all appear (names, ranks, places, evidence); "
                                             "none or * for every event")
    se.add_argument("--since", type=_date, help="events on or after this day (YYYY-MM-DD)")
    se.add_argument("--until", type=_date, help="events on or before this day (YYYY-MM-DD)")
    se.add_argument("--country", help="origin or destination country (name or demonym)")
    se.add_argument("--min-seniority", type=_seniority, default=0.0,
                    help="a number from 0 to 1, or a rank or title: 'colonel', 'deputy minister'")
    se.add_argument("--status", choices=["reported", "background", "denied"])
    se.add_argument("--limit", type=int, default=20, help="most events shown (default 20)")
    se.add_argument("--json", action="store_true", help="one JSON event per line")
    kb = sub.add_parser("kibana", help="Kibana saved objects")
    kb_sub = kb.add_subparsers(dest="kibana_command", required=True)
    kbi = kb_sub.add_parser("import", help="import the dashboards, searches and data view (overwrites)")
    kbi.add_argument("--url", required=True, help="Kibana base URL, e.g. http://localhost:5601")
    kbi.add_argument("--space", help="Kibana space id (default: the default space)")
    kbi.add_argument("--file", help="saved objects NDJSON (default: deploy/kibana/defwatch.ndjson)")
    ix = sub.add_parser("index", help="Elasticsearch templates and retention")
    ix_sub = ix.add_subparsers(dest="index_command", required=True)
    ix_sub.add_parser("setup", help="create/update the templates, the events index and alias (idempotent; "
                                    "workers do this at start too)")
    ix_sub.add_parser("cleanup", help="delete report indices past DEFWATCH_REPORT_RETENTION_DAYS")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        _err(str(exc))
        return 2
    handlers = {"extract": cmd_extract, "eval": cmd_eval, "run": cmd_run, "worker": cmd_worker,
                "ingest": cmd_ingest, "search": cmd_search, "kibana": cmd_kibana, "index": cmd_index}
    try:
        return handlers[args.command](args, settings)
    except (ModelNotFound, FeedsError, RulesError) as exc:
        _err(str(exc))
        return 2
    except KeyboardInterrupt:
        _err("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
