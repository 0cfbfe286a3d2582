"""The runtime status of a DR group (stored next to its spec): which site is active, each
site's health, the switch in progress, the drill in place, hold-down, and the logs."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from berth_schema.dr.spec import SiteRole
from pydantic import BaseModel, Field

State = Literal["active-primary", "degraded", "switching-over", "active-standby", "failing-back", "drill"]
SwitchKind = Literal["failover", "switchover", "failback", "drill", "drill-return"]

SWITCH_LOG = 100


class ProbeResult(BaseModel):
    probe: str
    ok: bool
    detail: str = ""
    latency_ms: float = 0.0


class ProbeRound(BaseModel):
    """All probes of one site, run once. The site passes when every probe passes."""

    at: datetime
    results: list[ProbeResult]

    @property
    def ok(self) -> bool:
        return bool(self.results) and all(r.ok for r in self.results)

    @property
    def detail(self) -> str:
        bad = [f"{r.probe}: {r.detail}" for r in self.results if not r.ok]
        return "; ".join(bad) if bad else "ok"


class HistoryEntry(BaseModel):
    at: datetime
    ok: bool
    detail: str


class SiteHealth(BaseModel):
    healthy: bool | None = None  # None: not probed yet
    failures: int = 0  # consecutive
    successes: int = 0  # consecutive
    last_at: datetime | None = None
    last_detail: str = ""
    history: list[HistoryEntry] = Field(default_factory=list)

    def describe(self, name: str) -> str:
        if self.healthy is None:
            return f"site {name} has not been probed yet"
        if self.healthy:
            return f"site {name} is healthy"
        if not self.failures:
            return f"site {name} is still marked down (recovering: {self.successes} consecutive successful probes)"
        return f"site {name} is unhealthy ({self.failures} consecutive failed probes; last: {self.last_detail})"


class WitnessCheck(BaseModel):
    """The witness's view of a site, asked in the probe round that ``at`` names."""

    url: str
    site: SiteRole
    at: datetime
    reachable: bool | None  # None: the witness did not answer
    detail: str
    results: list[ProbeResult] = Field(default_factory=list)


class Decision(BaseModel):
    """The evidence an automatic switch (or its refusal) was decided on."""

    verdict: str
    site: SiteRole
    berth: list[HistoryEntry]
    witness: WitnessCheck | None = None


class PendingSwitch(BaseModel):
    id: str
    kind: SwitchKind
    from_site: SiteRole
    to_site: SiteRole
    reason: str
    requested_by: str
    automatic: bool
    forced: bool = False
    drill_id: str | None = None
    drill_seconds: float | None = None
    started_at: datetime
    attempts: int = 0
    plan_id: str | None = None
    decision: Decision | None = None
    stale_after_seconds: float | None = None  # a plan's budget; else 2 x switch_timeout_seconds


class Drill(BaseModel):
    id: str
    reason: str
    requested_by: str
    seconds: float
    started_at: datetime
    ends_at: datetime | None = None  # set once traffic is on the standby


class SwitchLogEntry(BaseModel):
    id: str
    kind: SwitchKind
    from_site: SiteRole
    to_site: SiteRole
    reason: str
    requested_by: str
    automatic: bool
    drill_id: str | None = None
    started_at: datetime
    finished_at: datetime
    result: Literal["switched", "failed", "refused"]
    detail: str = ""
    plan_id: str | None = None
    decision: Decision | None = None


class GroupStatus(BaseModel):
    state: State = "active-primary"
    active: SiteRole = "primary"
    reason: str = "created"
    since: datetime
    primary: SiteHealth = Field(default_factory=SiteHealth)
    standby: SiteHealth = Field(default_factory=SiteHealth)
    pending: PendingSwitch | None = None
    drill: Drill | None = None
    hold_down_until: datetime | None = None
    blocked: str | None = None  # why the last automatic failover could not happen (reported once)
    witness: WitnessCheck | None = None  # the witness's last answer
    stopped_plan: str | None = None  # a plan of this group stopped at a failed step (resume or roll back)
    switch_log: list[SwitchLogEntry] = Field(default_factory=list)

    def health(self, role: SiteRole) -> SiteHealth:
        return self.primary if role == "primary" else self.standby
