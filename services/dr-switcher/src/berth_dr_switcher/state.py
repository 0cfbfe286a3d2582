"""Collections dr-switcher owns and how a group document is stored."""

from __future__ import annotations

from typing import Any

from berth_schema.dr.spec import GroupSpec

from .domain.group import DrGroup
from .domain.status import GroupStatus

GROUPS = "dr_groups"
PLANS = "dr_plans"
LEASES = "dr_leases"
COLLECTIONS = [GROUPS, PLANS]  # leases carry no events, so the outbox relay need not watch them

SOURCE = "/berth/dr-switcher"


def key(tenant: str, name: str) -> str:
    return f"{tenant}:{name}"


def subject(name: str) -> str:
    return f"dr-groups/{name}"


def load(data: dict[str, Any]) -> DrGroup:
    return DrGroup(GroupSpec.model_validate(data["spec"]), GroupStatus.model_validate(data["status"]))


def dump(group: DrGroup, *, tenant: str, into: dict[str, Any]) -> dict[str, Any]:
    into.update(
        tenant=tenant,
        name=group.spec.name,
        spec=group.spec.model_dump(mode="json"),
        status=group.status.model_dump(mode="json"),
        # top-level copies for list filters
        state=group.status.state,
        active=group.status.active,
    )
    return into
