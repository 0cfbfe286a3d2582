"""A metric analysis as a release strategy declares it: a Prometheus query measured every
``interval_seconds`` ``count`` times, each value checked against a success condition such
as ``result < 0.05``. More failures than ``failure_limit`` (or errors than ``error_limit``)
fail the run, which rolls the release back."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable

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
