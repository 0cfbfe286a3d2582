"""Builders for releases in unit tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from berth_release_orchestrator.domain.release import Release, Seen, advance, desired, new_revision
from berth_release_orchestrator.domain.strategy import parse_strategy
from berth_release_orchestrator.domain.workload import build_workload
from pydantic import BaseModel

T0 = datetime(2026, 1, 1, tzinfo=UTC)
WEB = {"image": "registry.local/web:1.0", "replicas": 4, "ingress": {"host": "my-app.com"}}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def revision(
    previous: Release | None, *, image: str, strategy: dict[str, Any], now: datetime = T0, **workload: Any
) -> tuple[Release, list[BaseModel]]:
    return new_revision(
        previous=previous,
        tenant="t1",
        name="web",
        cluster="c1",
        namespace="shop",
        environment="prod",
        kind="workload",
        workload=build_workload(WEB, {"image": image, **workload}),
        manifests=[],
        strategy=parse_strategy(strategy),
        template=None,
        template_version=None,
        requested_by="ann",
        correlationid="op-1",
        now=now,
        warnings=[],
    )


def tick(rel: Release, now: datetime, seen: Seen | None = None) -> list[BaseModel]:
    desired(rel, now)
    return advance(rel, now, seen or Seen())


def names(facts: list[BaseModel]) -> list[str]:
    from berth_common.events import registry

    return [registry.spec_for(f).type.split(".")[2] for f in facts]


def promoted_first(strategy: dict[str, Any]) -> Release:
    rel, _ = revision(None, image="registry.local/web:1.0", strategy=strategy)
    for i in range(10):
        tick(rel, at(i))
        if not rel.active:
            break
    assert rel.phase == "promoted", rel.phase
    return rel
