"""Queries of dr-switcher (``berth.api.dr-switcher.<op>``), declared on the app."""

from __future__ import annotations

from typing import Any

from berth_common.bus import QueryError
from berth_schema.dr import GetGroup, GroupDetail, GroupPage, GroupSummary, ListGroups

from . import state
from .app import app


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
        "pending": status.get("pending"),
        "drill": status.get("drill"),
        "hold_down_until": status.get("hold_down_until"),
    }


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
