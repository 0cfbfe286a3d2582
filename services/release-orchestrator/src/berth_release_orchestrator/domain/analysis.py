"""Metric analysis: a Prometheus query measured every ``interval`` ``count`` times; each
value is checked against a success condition such as ``result < 0.05``. More failures
than ``failure_limit`` (or errors than ``error_limit``) fail the run, which rolls the
release back."""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
}
_CLAUSE = re.compile(r"^\s*result\s*(<=|>=|==|!=|<|>)\s*(-?[0-9]+(\.[0-9]+)?([eE]-?[0-9]+)?)\s*$")


class Condition:
    """``result <op> number`` clauses joined by ``and`` / ``or`` (``and`` binds tighter)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.any_of: list[list[tuple[Callable[[float, float], bool], float]]] = []
        for alternative in re.split(r"\s+or\s+", text.strip()):
            clauses = []
            for clause in re.split(r"\s+and\s+", alternative):
                m = _CLAUSE.match(clause)
                if not m:
                    raise ValueError(
                        f"{clause.strip()!r} is not 'result <op> number' (ops: < <= > >= == !=, joined by and/or)"
                    )
                clauses.append((_OPS[m.group(1)], float(m.group(2))))
            self.any_of.append(clauses)

    def holds(self, value: float) -> bool:
        return any(all(op(value, bound) for op, bound in clauses) for clauses in self.any_of)


class AnalysisSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, max_length=4096, description="PromQL; {{app}} {{namespace}} {{release}} allowed")
    success_condition: str = Field(min_length=1, max_length=256)
    interval_seconds: float = Field(default=30.0, ge=0.2, le=3600)
    count: int = Field(default=3, ge=1, le=1000)
    failure_limit: int = Field(default=0, ge=0, le=1000)
    error_limit: int = Field(default=2, ge=0, le=1000)
    initial_delay_seconds: float = Field(default=0.0, ge=0, le=3600)
    prometheus_url: str | None = Field(default=None, pattern=r"^https?://")

    @field_validator("success_condition")
    @classmethod
    def _parses(cls, v: str) -> str:
        Condition(v)
        return v

    def rendered_query(self, *, app: str, namespace: str, release: str) -> str:
        return self.query.replace("{{app}}", app).replace("{{namespace}}", namespace).replace("{{release}}", release)


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
