"""What happened to a DR group, as the aggregate reports it (the service turns these into facts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from berth_schema.dr.spec import SiteRole

from .status import State, SwitchKind


@dataclass(frozen=True, kw_only=True)
class ProbeFailed:
    """A site crossed its failure threshold: it is down."""

    site: SiteRole
    site_name: str
    failures: int
    threshold: int
    detail: str
    drill_id: str | None


@dataclass(frozen=True, kw_only=True)
class ProbeRecovered:
    """A site that was down passed its recovery threshold."""

    site: SiteRole
    site_name: str
    successes: int
    threshold: int
    drill_id: str | None


@dataclass(frozen=True, kw_only=True)
class SwitchStarted:
    switch_id: str
    kind: SwitchKind
    from_site: SiteRole
    to_site: SiteRole
    reason: str
    requested_by: str
    automatic: bool
    forced: bool
    drill_id: str | None
    at: datetime


@dataclass(frozen=True, kw_only=True)
class Switched:
    switch_id: str
    kind: SwitchKind
    from_site: SiteRole
    to_site: SiteRole
    reason: str
    requested_by: str
    automatic: bool
    drill_id: str | None
    started_at: datetime
    at: datetime
    detail: str


@dataclass(frozen=True, kw_only=True)
class SwitchFailed:
    """A switch was refused (``refused``) or attempted and failed."""

    switch_id: str
    kind: SwitchKind
    from_site: SiteRole
    to_site: SiteRole
    reason: str
    requested_by: str
    automatic: bool
    refused: bool
    drill_id: str | None
    at: datetime


@dataclass(frozen=True, kw_only=True)
class StateChanged:
    from_state: State | None
    to_state: State
    active: SiteRole
    reason: str
    drill_id: str | None
    at: datetime


DomainEvent = ProbeFailed | ProbeRecovered | SwitchStarted | Switched | SwitchFailed | StateChanged
