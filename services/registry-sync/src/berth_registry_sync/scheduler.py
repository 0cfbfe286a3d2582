"""Cron and periodic-reconcile triggers. Each due run is claimed with a compare-and-set on the policy
record, so with N replicas exactly one sends the run-policy command."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

from berth_common.runtime import ServiceApp
from berth_common.store import Conflict
from berth_schema.registry import RunPolicy
from berth_schema.registry.policies import PolicySpec

from .app import app
from .deps import now, wiring
from .state import POLICIES

log = logging.getLogger(__name__)


def due(spec: PolicySpec, schedule: dict[str, Any], at: datetime) -> tuple[str, dict[str, Any]] | None:
    """The trigger due at ``at`` and the schedule marks to store when it is claimed."""
    if not spec.enabled:
        return None
    if spec.triggers.cron:
        last = datetime.fromisoformat(schedule["cron_at"]) if schedule.get("cron_at") else None
        if last is None:
            return "init", {"cron_at": at.isoformat()}
        nxt = spec.triggers.next_cron(last)
        if nxt is not None and nxt <= at:
            return "cron", {"cron_at": nxt.isoformat()}
    if spec.triggers.reconcile_seconds:
        last = datetime.fromisoformat(schedule["reconcile_at"]) if schedule.get("reconcile_at") else None
        if last is None or last + timedelta(seconds=spec.triggers.reconcile_seconds) <= at:
            return "reconcile", {"reconcile_at": at.isoformat()}
    return None


async def tick(svc: ServiceApp) -> int:
    sent = 0
    col = svc.store.collection(POLICIES)
    for rec in await col.list(limit=10_000):
        spec = PolicySpec.model_validate(rec.data["spec"])
        schedule = dict(rec.data.get("schedule") or {})
        at = now()
        got = due(spec, schedule, at)
        if got is None:
            continue
        trigger, marks = got
        try:
            await col.replace(rec.key, {**rec.data, "schedule": schedule | marks}, expected_version=rec.version)
        except Conflict:
            continue  # another replica claimed it
        if trigger == "init":
            continue
        run_id = f"{trigger}-{spec.name}-{int(at.timestamp())}"
        await svc.bus.emit(
            RunPolicy(
                tenant=spec.tenant,
                policy=spec.name,
                trigger=trigger,
                execution_id=run_id,
            ),
            tenant=spec.tenant,
            subject=f"policies/{spec.name}",
        )
        sent += 1
    return sent


@app.background
async def schedule_loop(svc: ServiceApp) -> None:
    while True:
        try:
            await tick(svc)
        except Exception:
            log.exception("scheduler tick failed")
        await asyncio.sleep(wiring.scheduler_tick)
