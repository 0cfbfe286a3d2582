"""Drain options and the per-pod report a drain ends with."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

PodOutcome = Literal["evicted", "skipped", "refused", "blocked", "terminating", "failed", "pending"]
DrainOutcome = Literal["drained", "timed-out", "refused", "failed"]


class DrainOptions(BaseModel):
    timeout_seconds: float = Field(default=300.0, gt=0, le=86400)
    # None: each pod's own terminationGracePeriodSeconds
    grace_period_seconds: int | None = Field(default=None, ge=0)
    ignore_daemonsets: bool = True
    force: bool = False
    delete_emptydir_data: bool = True
    retry_seconds: float = Field(default=1.0, gt=0, le=300)


class PodReport(BaseModel):
    namespace: str
    name: str
    outcome: PodOutcome
    reason: str = ""
    attempts: int = 0


class DrainReport(BaseModel):
    node: str
    outcome: DrainOutcome
    seconds: float
    pods: list[PodReport]

    def by_outcome(self, outcome: PodOutcome) -> list[PodReport]:
        return [p for p in self.pods if p.outcome == outcome]

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for p in self.pods:
            counts[p.outcome] = counts.get(p.outcome, 0) + 1
        parts = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
        return f"drain of {self.node} {self.outcome} in {self.seconds:.1f}s ({parts or 'no pods'})"
