"""Scaling decisions: each one is a single write to the policy record carrying a
``scale-decided`` fact and the scale command for the owning service (outbox)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from berth_common.events import Envelope, registry
from berth_common.store import Store
from berth_common.store.unit_of_work import update
from berth_schema.alert import ScaleDecided
from berth_schema.alert.scaling import MetricTrigger, PoolTarget, ScalingPolicy
from berth_schema.node import ScalePool
from berth_schema.release import ScaleWorkload
from pydantic import BaseModel

from . import state
from .adapters.prometheus_api import Prometheus, QueryFailed
from .domain.payload import Alert
from .domain.scaling import alert_direction, decide, metric_direction

log = logging.getLogger(__name__)
DECISION_HISTORY = 20


def _command(policy: ScalingPolicy, desired: int, reason: str) -> BaseModel:
    t = policy.target
    if isinstance(t, PoolTarget):
        return ScalePool(tenant=policy.tenant, cluster=t.cluster, pool=t.pool, size=desired, reason=reason)
    return ScaleWorkload(
        tenant=policy.tenant,
        cluster=t.cluster,
        namespace=t.namespace,
        kind=t.workload_kind,
        name=t.name,
        replicas=desired,
        reason=reason,
    )


async def apply(
    store: Store,
    policy: ScalingPolicy,
    *,
    direction: Literal["up", "down"],
    why: str,
    trigger: Literal["alert", "metric"],
    now: datetime,
    cause: Envelope | None = None,
) -> bool:
    """Decide and record; True when a scale command was issued."""

    def mutate(data: dict[str, Any]) -> None:
        current = data.get("current")
        current = policy.min if current is None else int(current)
        last = data.get("last_scaled_at")
        decision = decide(
            policy,
            direction=direction,
            current=current,
            last_scaled_at=datetime.fromisoformat(last) if last else None,
            now=now,
            why=why,
        )
        if decision is None:
            return
        data["decisions"] = [
            *data.get("decisions", [])[-(DECISION_HISTORY - 1) :],
            {"at": now.isoformat(), "from": current, "to": decision.desired, "reason": decision.reason},
        ]
        data.update(current=decision.desired, last_scaled_at=now.isoformat())

    def events(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[Envelope]:
        if before is not None and before.get("last_scaled_at") == after.get("last_scaled_at"):
            return []
        d = after["decisions"][-1]
        attrs: dict[str, Any] = {**(cause.caused() if cause else {}), "tenant": policy.tenant}
        attrs.update(subject=f"scaling-policies/{policy.name}", source=state.SOURCE)
        target = {k: str(v) for k, v in policy.target.model_dump().items()}
        fact = ScaleDecided(
            policy=policy.name,
            target_kind=policy.target.kind,
            target=target,
            current=d["from"],
            desired=d["to"],
            reason=d["reason"],
            trigger=trigger,
        )
        return [registry.envelope(fact, **attrs), registry.envelope(_command(policy, d["to"], d["reason"]), **attrs)]

    before = await store.collection(state.SCALING).get(state.key(policy.tenant, policy.name))
    rec = await update(
        store.collection(state.SCALING),
        state.key(policy.tenant, policy.name),
        mutate,
        caused_by=None,
        events_for=events,
    )
    return before is not None and before.data.get("last_scaled_at") != rec.data.get("last_scaled_at")


async def on_alert(store: Store, tenant: str, alert: Alert, *, now: datetime, cause: Envelope) -> int:
    issued = 0
    for policy, _ in await state.policies(store, tenant):
        direction = alert_direction(policy, alert.status, alert.labels)
        if direction is None:
            continue
        why = f"alert {alert.name} {alert.status} ({', '.join(f'{k}={v}' for k, v in sorted(alert.labels.items()))})"
        issued += await apply(store, policy, direction=direction, why=why, trigger="alert", now=now, cause=cause)
    return issued


async def evaluate_metrics(store: Store, prometheus: Prometheus, *, now: datetime) -> int:
    """Query each metric policy once and act on its threshold."""
    issued = 0
    for policy, doc in await state.policies(store):
        trig = policy.trigger
        if not isinstance(trig, MetricTrigger) or not policy.enabled:
            continue
        last_eval = doc.get("last_evaluated_at")
        if last_eval and (now - datetime.fromisoformat(last_eval)).total_seconds() < trig.interval_seconds:
            continue
        try:
            value = await prometheus.value(trig.query)
        except (QueryFailed, OSError, TimeoutError) as exc:
            log.warning("scaling policy %s: query failed: %s", policy.name, exc)
            continue
        await _mark_evaluated(store, policy, now, value)
        if value is None:
            continue
        direction = metric_direction(policy, value)
        if direction is None:
            continue
        threshold = trig.scale_up_above if direction == "up" else trig.scale_down_below
        why = f"{trig.query} = {value:g} {'>' if direction == 'up' else '<'} {threshold:g}"
        issued += await apply(store, policy, direction=direction, why=why, trigger="metric", now=now)
    return issued


async def _mark_evaluated(store: Store, policy: ScalingPolicy, now: datetime, value: float | None) -> None:
    def mutate(data: dict[str, Any]) -> None:
        data.update(last_evaluated_at=now.isoformat(), last_value=value)

    await update(store.collection(state.SCALING), state.key(policy.tenant, policy.name), mutate, caused_by=None)
