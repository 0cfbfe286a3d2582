"""Metric analysis runs: the measurements of an ``AnalysisSpec`` (``berth_schema.release.analysis``)
and when they pass or fail the release step."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Literal

from berth_schema.release.analysis import AnalysisSpec, Condition
from pydantic import BaseModel, Field

Outcome = Literal["success", "failure", "error"]


class Measurement(BaseModel):
    at: datetime
    value: float | None = None
    outcome: Outcome
    error: str = ""


class AnalysisRun(BaseModel):
    index: int  # the release step it belongs to
    started_at: datetime
    status: Literal["running", "passed", "failed"] = "running"
    measurements: list[Measurement] = Field(default_factory=list)
    reason: str = ""

    @property
    def failures(self) -> int:
        return sum(1 for m in self.measurements if m.outcome == "failure")

    @property
    def errors(self) -> int:
        return sum(1 for m in self.measurements if m.outcome == "error")

    def due(self, spec: AnalysisSpec, now: datetime) -> bool:
        if self.status != "running":
            return False
        if not self.measurements:
            return (now - self.started_at).total_seconds() >= spec.initial_delay_seconds
        return (now - self.measurements[-1].at).total_seconds() >= spec.interval_seconds

    def record(self, spec: AnalysisSpec, m: Measurement) -> None:
        """Add a measurement and settle the run when it has failed or measured ``count`` times."""
        self.measurements.append(m)
        if self.failures > spec.failure_limit:
            self.status = "failed"
            self.reason = (
                f"{self.failures} of {len(self.measurements)} measurements failed {spec.success_condition!r} "
                f"(failure limit {spec.failure_limit}); last value {_fmt(m.value)}"
            )
        elif self.errors > spec.error_limit:
            self.status = "failed"
            self.reason = f"{self.errors} measurements errored (error limit {spec.error_limit}): {m.error}"
        elif len(self.measurements) >= spec.count:
            self.status = "passed"


def judge(spec: AnalysisSpec, value: float | None, *, at: datetime, error: str = "") -> Measurement:
    if error or value is None:
        return Measurement(at=at, value=None, outcome="error", error=error or "the query returned no data")
    if math.isnan(value):
        return Measurement(at=at, value=None, outcome="error", error="the query returned NaN")
    ok = Condition(spec.success_condition).holds(value)
    return Measurement(at=at, value=value, outcome="success" if ok else "failure")


def _fmt(v: float | None) -> str:
    return "none" if v is None else f"{v:g}"
