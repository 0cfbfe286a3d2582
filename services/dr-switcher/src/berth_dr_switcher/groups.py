"""The service layer over the aggregate: read a group, change it, store state and facts in
one write (retrying on a lost race), and carry out a switch the write started."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from berth_common.events import Envelope
from berth_common.store import Record, Store
from berth_common.store.unit_of_work import update

from . import facts, metrics, state
from .config import Deps
from .domain.events import DomainEvent, Switched, SwitchFailed
from .domain.group import DrGroup, SwitchRefused
from .domain.plan import traffic_plan
from .domain.status import PendingSwitch
from .traffic import TrafficMoveFailed, move_traffic

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    record: Record
    group: DrGroup
    events: list[DomainEvent] = field(default_factory=list)
    refused: str | None = None


async def change(
    store: Store,
    tenant: str,
    name: str,
    fn: Callable[[DrGroup], None],
    *,
    cause: Envelope | None,
    idempotent: bool = True,
    wake: Callable[[], None] = lambda: None,
) -> Outcome:
    """Apply ``fn`` to the stored group; its events become facts in the same write.
    A ``SwitchRefused`` raised by ``fn`` is stored too (the refusal is a fact).
    ``idempotent``: record the cause's id so a redelivery changes nothing (off for the
    second write a command makes, the outcome of its switch)."""
    holder: dict[str, Any] = {}

    def mutate(data: dict[str, Any]) -> None:
        group = state.load(data)
        holder.clear()
        try:
            fn(group)
        except SwitchRefused as exc:
            holder["refused"] = exc.reason
        holder["group"] = group
        state.dump(group, tenant=tenant, into=data)

    def events_for(before: Any, after: Any) -> list[Envelope]:
        return facts.envelopes(holder["group"].events, tenant=tenant, group=name, cause=cause)

    rec = await update(
        store.collection(state.GROUPS),
        state.key(tenant, name),
        mutate,
        caused_by=cause.id if cause is not None and idempotent else None,
        events_for=events_for,
    )
    if "group" not in holder:  # already applied (redelivery): nothing ran
        return Outcome(record=rec, group=state.load(rec.data))
    group: DrGroup = holder["group"]
    _count(tenant, name, group.events)
    if group.events:
        wake()
    return Outcome(record=rec, group=group, events=list(group.events), refused=holder.get("refused"))


def _count(tenant: str, name: str, events: list[DomainEvent]) -> None:
    for e in events:
        if isinstance(e, Switched):
            metrics.SWITCHES.labels(tenant, name, e.kind, "switched").inc()
            metrics.ACTIVE_STANDBY.labels(tenant, name).set(1 if e.to_site == "standby" else 0)
        elif isinstance(e, SwitchFailed):
            metrics.SWITCHES.labels(tenant, name, e.kind, "refused" if e.refused else "failed").inc()


async def execute(
    store: Store,
    deps: Deps,
    tenant: str,
    name: str,
    pending: PendingSwitch,
    group: DrGroup,
    *,
    cause: Envelope | None,
    wake: Callable[[], None] = lambda: None,
) -> Outcome:
    """Move traffic for the pending switch of one group, then record the outcome (switched or
    failed). A partly done move is rolled back to the site traffic came from. Linked groups
    and dependencies are the business of ``plans``."""
    plan = traffic_plan(group.spec, pending.to_site)
    ok, detail = True, ""
    with metrics.SWITCH_SECONDS.time():
        try:
            detail = await move_traffic(group.spec, plan, deps)
        except TrafficMoveFailed as exc:
            ok, detail = False, str(exc)
            try:
                await move_traffic(group.spec, traffic_plan(group.spec, pending.from_site), deps)
                detail += f"; traffic restored to {pending.from_site}"
            except TrafficMoveFailed as back:
                detail += f"; restoring {pending.from_site} also failed: {back}"
        except Exception as exc:  # an adapter bug must still end the switch, not leave it pending
            log.exception("switch %s of %s/%s crashed", pending.id, tenant, name)
            ok, detail = False, f"{type(exc).__name__}: {exc}"
    now = deps.clock.now()
    out = await change(
        store,
        tenant,
        name,
        lambda g: _complete(g, pending.id, ok=ok, detail=detail, now=now),
        cause=cause,
        idempotent=False,
        wake=wake,
    )
    return out


def _complete(g: DrGroup, switch_id: str, *, ok: bool, detail: str, now: Any) -> None:
    g.complete(switch_id, ok=ok, detail=detail, now=now)
