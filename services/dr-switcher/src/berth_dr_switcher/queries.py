"""Queries of dr-switcher (``berth.api.dr-switcher.<op>``), declared on the app."""

from __future__ import annotations

from typing import Any

from berth_common.bus import QueryError
from berth_schema.dr import (
    GetGroup,
    GetSwitchHistory,
    GroupDetail,
    GroupPage,
    GroupSummary,
    ListGroups,
    SwitchHistory,
    SwitchHistoryEntry,
)

from . import plans, state
from .app import app
from .domain.status import SwitchLogEntry
from .domain.switch_plan import SwitchPlan


def _summary(data: dict[str, Any]) -> dict[str, Any]:
    status = data["status"]
    spec = data["spec"]
    return {
        "tenant": data["tenant"],
        "name": data["name"],
        "description": spec.get("description", ""),
        "state": status["state"],
        "active": status["active"],
        "reason": status["reason"],
        "since": status["since"],
        "primary": {"name": spec["primary"]["name"], "healthy": status["primary"]["healthy"]},
        "standby": {"name": spec["standby"]["name"], "healthy": status["standby"]["healthy"]},
        "mode": [m for m in ("dns", "ingress") if spec.get(m)],
        "pending": _pending(status.get("pending")),
        "drill": status.get("drill"),
        "hold_down_until": status.get("hold_down_until"),
        "stopped_plan": status.get("stopped_plan"),
        "depends_on": spec.get("depends_on", []),
    }


def _pending(p: dict[str, Any] | None) -> dict[str, Any] | None:
    if p is None:
        return None
    return {k: v for k, v in p.items() if k != "stale_after_seconds"}


@app.query(ListGroups)
async def list_groups(req: ListGroups) -> GroupPage:
    where: dict[str, Any] = {"tenant": req.tenant, **({"state": req.state} if req.state else {})}
    recs = await app.store.collection(state.GROUPS).list(
        where=where, after=state.key(req.tenant, req.after) if req.after else None, limit=req.limit
    )
    return GroupPage(
        items=[GroupSummary.model_validate(_summary(r.data)) for r in recs],
        next=recs[-1].data["name"] if recs else None,
    )


@app.query(GetGroup)
async def get_group(req: GetGroup) -> GroupDetail:
    rec = await app.store.collection(state.GROUPS).get(state.key(req.tenant, req.group))
    if rec is None:
        raise QueryError(404, f"DR group {req.group} not found")
    status = rec.data["status"]
    return GroupDetail.model_validate(
        {
            **_summary(rec.data),
            "spec": rec.data["spec"],
            "health": {"primary": status["primary"], "standby": status["standby"]},
            "switch_log": status["switch_log"],
            "resource_version": rec.version,
        }
    )


@app.query(GetSwitchHistory)
async def switch_history(req: GetSwitchHistory) -> SwitchHistory:
    rec = await app.store.collection(state.GROUPS).get(state.key(req.tenant, req.group))
    if rec is None:
        raise QueryError(404, f"DR group {req.group} not found")
    log = [SwitchLogEntry.model_validate(e) for e in rec.data["status"]["switch_log"]]
    log.reverse()
    if req.after is not None:
        ids = [e.id for e in log]
        log = log[ids.index(req.after) + 1 :] if req.after in ids else []
    log = log[: req.limit]
    found: dict[str, SwitchPlan | None] = {}
    items = []
    for e in log:
        if e.plan_id is not None and e.plan_id not in found:
            found[e.plan_id] = await plans.load(app.store, req.tenant, e.plan_id)
        plan = found.get(e.plan_id) if e.plan_id is not None else None
        items.append(
            SwitchHistoryEntry.model_validate(
                {
                    **e.model_dump(mode="json"),
                    "trigger": _trigger(e, plan, req.group),
                    "duration_ms": round((e.finished_at - e.started_at).total_seconds() * 1000, 1),
                    "plan": plan.view() if plan is not None else None,
                }
            )
        )
    return SwitchHistory(items=items, next=items[-1].id if len(items) == req.limit else None)


def _trigger(e: SwitchLogEntry, plan: SwitchPlan | None, group: str) -> str:
    if e.automatic:
        evidence = "probes + witness" if e.decision is not None and e.decision.witness is not None else "probes"
        how = f"automatic ({evidence})"
    else:
        how = f"manual by {e.requested_by}"
    if plan is not None and plan.group != group:
        return f"{how}: step of plan {plan.id} of group {plan.group}"
    if plan is not None:
        return f"{how}: plan {plan.id} over {', '.join(plan.names)}"
    return how
