"""Prometheus metrics of every stage, in one registry per process (no module-level state), served on
``/metrics`` by every long-running command (``DEFWATCH_METRICS_PORT``; 0 = off).

Names follow Prometheus conventions: ``_total`` counters, ``_seconds`` histograms, base units. Label
values are bounded (outcomes, statuses, sectors, reasons, configured feeds and targets), never article
ids or URLs from the wild.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        r = self.registry = registry or CollectorRegistry()
        self.articles = Counter("defwatch_articles_ingested_total", "Articles read, by source and outcome "
                                "(accepted, duplicate, invalid)", ["source", "outcome"], registry=r)
        self.prefilter = Counter("defwatch_prefilter_articles_total", "Articles through the pre-filter, by "
                                 "result (pass, drop)", ["result"], registry=r)
        self.extraction = Histogram("defwatch_extraction_seconds", "Extraction time per article batch",
                                    buckets=_LATENCY, registry=r)
        self.reports = Counter("defwatch_reports_total", "Article reports extracted", ["status", "sector"],
                               registry=r)
        self.events = Counter("defwatch_events_total", "Canonical events touched, by kind (new, merged)",
                              ["kind", "status", "sector"], registry=r)
        self.dedup_merges = Counter("defwatch_dedup_merges_total", "Reports merged into an existing event",
                                    registry=r)
        self.write_latency = Histogram("defwatch_store_write_seconds", "Writes to the store or index",
                                       ["sink"], buckets=_LATENCY, registry=r)
        self.write_errors = Counter("defwatch_store_write_errors_total", "Failed writes (retried)", ["sink"],
                                    registry=r)
        self.alerts = Counter("defwatch_alerts_total", "Alert deliveries by target, kind and outcome (sent, "
                              "retried, dead_lettered, refused, recorded)", ["target", "kind", "outcome"],
                              registry=r)
        self.alert_latency = Histogram("defwatch_alert_delivery_seconds", "From decision to accepted delivery",
                                       ["target"], buckets=_LATENCY, registry=r)
        self.deadletters = Counter("defwatch_deadletters_total", "Inputs dead-lettered, by reason",
                                   ["reason"], registry=r)
        self.feed_errors = Counter("defwatch_feed_poll_errors_total", "Failed feed polls", ["feed"], registry=r)
        self.feed_items = Counter("defwatch_feed_items_total", "Items read from a feed", ["feed"], registry=r)
        self.feed_failures = Gauge("defwatch_feed_consecutive_failures", "Failed polls of a feed since its last "
                                   "success", ["feed"], registry=r)
        self.feed_success = Gauge("defwatch_feed_last_success_timestamp_seconds", "Last successful poll of a "
                                  "feed", ["feed"], registry=r)
        self.stage_activity = Gauge("defwatch_stage_last_activity_timestamp_seconds", "Last time a stage "
                                    "processed something", ["stage"], registry=r)
        self.stage_backlog = Gauge("defwatch_stage_queue_depth", "Items waiting inside the process for a "
                                   "stage (alert deliveries)", ["stage"], registry=r)

    def touch(self, stage: str) -> None:
        self.stage_activity.labels(stage=stage).set(time.time())

    @contextmanager
    def timed_write(self, sink: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        except Exception:
            self.write_errors.labels(sink=sink).inc()
            raise
        finally:
            self.write_latency.labels(sink=sink).observe(time.perf_counter() - start)

    def dead_letter(self, reason: str) -> None:
        self.deadletters.labels(reason=reason_label(reason)).inc()


def reason_label(reason: str) -> str:
    """A bounded label for a dead-letter reason (the full reason stays in the dead-letter record)."""
    low = reason.lower()
    for key in ("not json", "not utf-8", "missing field", "too large", "over the", "empty", "extraction failed",
                "bad event", "bad report", "invalid", "refused"):
        if key in low:
            return key.replace(" ", "_").replace("-", "_")
    return "other"


def serve(metrics: Metrics, port: int, host: str = "127.0.0.1", log: Callable[[str], None] = print) -> bool:
    """Serve ``/metrics`` in a background thread; a busy port is reported, not fatal."""
    if port <= 0:
        return False
    try:
        start_http_server(port, addr=host, registry=metrics.registry)
    except OSError as exc:
        log(f"metrics: cannot listen on {host}:{port} ({exc}); carrying on without /metrics")
        return False
    log(f"metrics on http://{host}:{port}/metrics")
    return True
