"""Alert rules: which events alert, and to which webhook targets.

A rules file is TOML (``DEFWATCH_ALERT_RULES``; ``deploy/alerts/rules.toml`` is the documented example).
Without one, the default rule applies and alerts are recorded and shown but sent nowhere::

    [[targets]]
    name = "ops-chat"                       # unique; used in the sent-alert record and metrics
    url = "https://hooks.example.org/defwatch"
    secret_env = "DEFWATCH_SECRET_OPS_CHAT" # HMAC key read from this environment variable
    format = "json"                         # or "slack" ({"text": ...})
    allow_private = false                   # true to allow loopback/private/link-local addresses
    timeout = 10.0                          # seconds per attempt
    max_attempts = 6                        # then the delivery is dead-lettered with its last error

    [[rules]]
    name = "senior-defection"
    statuses = ["reported"]
    sectors = ["military", "security", "intelligence", "government", "diplomatic"]
    min_rank = "colonel"                    # or min_seniority = 0.5 (0..1)
    min_confidence = 0.3
    min_corroboration = 1
    origins = []                            # origin countries; empty = any
    targets = ["ops-chat"]
    updates = true                          # also an "update" alert when corroboration or seniority rises
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from extractors import DefectionEvent, ranks
from extractors.countries import country_of
from streams.inputs import describe

DEFAULT_SECTORS = ("military", "security", "intelligence", "government", "diplomatic")


class RulesError(ValueError):
    pass


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    url: str = Field(pattern=r"^https?://", max_length=2048)
    secret_env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    format: Literal["json", "slack"] = "json"
    allow_private: bool = False
    timeout: float = Field(default=10.0, gt=0, le=120)
    max_attempts: int = Field(default=6, ge=1, le=50)

    def secret(self, env: Mapping[str, str] | None = None) -> bytes | None:
        if not self.secret_env:
            return None
        value = (os.environ if env is None else env).get(self.secret_env)
        return value.encode() if value else None


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    statuses: tuple[Literal["reported", "background", "denied"], ...] = ("reported",)
    sectors: tuple[str, ...] = DEFAULT_SECTORS
    min_rank: str | None = None
    min_seniority: float = Field(default=0.5, ge=0, le=1)
    min_confidence: float = Field(default=0.3, ge=0, le=1)
    min_corroboration: int = Field(default=1, ge=1)
    origins: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    updates: bool = False

    @model_validator(mode="after")
    def _resolve(self) -> Rule:
        if self.min_rank is not None:
            rank = ranks.rank_of(self.min_rank)
            if rank is None:
                raise ValueError(f"min_rank {self.min_rank!r} is not a known rank or title")
            object.__setattr__(self, "min_seniority", ranks.seniority(rank))
        object.__setattr__(self, "origins", tuple(country_of(o) or o for o in self.origins))
        return self

    def fires(self, event: DefectionEvent) -> bool:
        return (event.status in self.statuses and event.sector in self.sectors
                and event.seniority >= self.min_seniority and event.confidence >= self.min_confidence
                and event.corroboration >= self.min_corroboration
                and (not self.origins or (event.from_ or "").lower() in {o.lower() for o in self.origins}))


class RuleSet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    targets: tuple[Target, ...] = ()
    rules: tuple[Rule, ...] = ()

    @model_validator(mode="after")
    def _check_names(self) -> RuleSet:
        names = [t.name for t in self.targets]
        if len(set(names)) != len(names):
            raise ValueError("target names must be unique")
        if len({r.name for r in self.rules}) != len(self.rules):
            raise ValueError("rule names must be unique")
        for r in self.rules:
            unknown = set(r.targets) - set(names)
            if unknown:
                raise ValueError(f"rule {r.name!r} routes to unknown target(s): {', '.join(sorted(unknown))}")
        return self

    def target(self, name: str) -> Target:
        return next(t for t in self.targets if t.name == name)


def default_rules(min_seniority: float = 0.5, min_confidence: float = 0.3) -> RuleSet:
    """The rule that applies without a rules file: reported state-sector defections of a colonel, deputy
    minister, ambassador or more senior (``DEFWATCH_ALERT_SENIORITY``), recorded, sent nowhere."""
    return RuleSet(rules=(Rule(name="senior-defection", min_seniority=min_seniority,
                               min_confidence=min_confidence),))


def load_rules(path: Path | None, min_seniority: float = 0.5, min_confidence: float = 0.3) -> RuleSet:
    if path is None:
        return default_rules(min_seniority, min_confidence)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulesError(f"cannot read the alert rules {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path}: not valid TOML: {exc}") from exc
    try:
        return RuleSet.model_validate(raw)
    except ValidationError as exc:
        raise RulesError(f"{path}: {describe(exc)}") from exc
