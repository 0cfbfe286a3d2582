"""Linked groups switch in dependency order on the real service (NATS, PowerDNS, loopback
sites): the plan's order, refused cycles and unknown dependencies, a failed step that stops the
plan, and resume / rollback."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from berth_dr_switcher.app import app
from berth_dr_switcher.config import deps
from berth_schema.dr import CreateGroup, DeleteGroup, Resume, Rollback, Switchover, UpdateGroup
from berth_testkit.powerdns import PowerDNS
from dr_harness.harness import Service, dns_answer, eventually, group_spec
from dr_harness.sites import Site


def app_spec(name: str, sites: tuple[Site, Site], provider: str, *, depends_on: tuple[str, ...] = ()) -> dict[str, Any]:
    spec = group_spec(name, *sites, provider=provider, depends_on=list(depends_on))
    spec["dns"]["record"] = f"{name}.dr.test."
    return spec


async def create(service: Service, tenant: str, *specs: dict[str, Any]) -> None:
    for spec in specs:
        await service.send(CreateGroup(tenant=tenant, spec=spec), tenant=tenant)
        await eventually(lambda s=spec: _healthy(service, tenant, s["name"]), what=f"{spec['name']} probed healthy")


async def _healthy(service: Service, tenant: str, name: str) -> bool:
    try:
        g = await service.query("get-group", {"tenant": tenant, "group": name})
    except Exception:
        return False
    return bool(g["primary"]["healthy"] and g["standby"]["healthy"])


async def answers(powerdns: PowerDNS, name: str) -> list[str]:
    return (await dns_answer(powerdns, f"{name}.dr.test."))[0]


async def letters(tenant: str, verb: str) -> list[str]:
    return [
        d.error
        for d in await app.bus.dead_letters(service="dr-switcher", limit=1000)
        if tenant in d.data and d.subject.endswith(f".{verb}")
    ]


async def test_a_switch_moves_dependencies_first_each_step_after_the_last_is_healthy(
    service: Service, tenant: str, sites: tuple[Site, Site], provider: str, powerdns: PowerDNS
) -> None:
    # list order says cache before db; cache needs db, so db goes first
    await create(
        service,
        tenant,
        app_spec("db", sites, provider),
        app_spec("cache", sites, provider, depends_on=("db",)),
        app_spec("api", sites, provider, depends_on=("cache", "db")),
        app_spec("front", sites, provider, depends_on=("api",)),
    )
    cmd = await service.send(
        Switchover(tenant=tenant, group="front", reason="move the shop to idc-b", requested_by="alice"), tenant=tenant
    )
    done = await eventually(
        lambda: [f for f in service.of(tenant, "plan-finished") if f.causationid == cmd.id], what="plan finished"
    )
    assert done[0].data["result"] == "done" and done[0].data["steps"] == ["db", "cache", "api", "front"]
    switched = [f for f in service.of(tenant, "switched") if f.causationid == cmd.id]
    assert [f.data["group"] for f in switched] == ["db", "cache", "api", "front"]
    assert "dependency of group front" in switched[0].data["reason"]
    for name in ("db", "cache", "api", "front"):
        assert await answers(powerdns, name) == ["127.0.0.2"], name

    history = await service.query("switch-history", {"tenant": tenant, "group": "front"})
    entry = history["items"][0]
    assert entry["result"] == "switched" and entry["requested_by"] == "alice"
    assert entry["trigger"].startswith("manual by alice: plan") and entry["reason"] == "move the shop to idc-b"
    plan = entry["plan"]
    assert plan["state"] == "done" and [s["group"] for s in plan["steps"]] == ["db", "cache", "api", "front"]
    steps = plan["steps"]
    for before, after in itertools.pairwise(steps):
        assert before["state"] == "done" and before["healthy_at"] is not None
        # a step starts only after the previous group answered on the new side
        assert datetime.fromisoformat(after["started_at"]) >= datetime.fromisoformat(before["healthy_at"])
    assert all(s["traffic_at"] and s["duration_ms"] is not None and s["from_site"] == "primary" for s in steps)
    db = (await service.query("switch-history", {"tenant": tenant, "group": "db"}))["items"][0]
    assert db["plan_id"] == plan["id"] and f"step of plan {plan['id']} of group front" in db["trigger"]


async def test_cycles_and_unknown_dependencies_are_refused_naming_the_field(
    service: Service, tenant: str, sites: tuple[Site, Site], provider: str
) -> None:
    await create(service, tenant, app_spec("a", sites, provider), app_spec("b", sites, provider, depends_on=("a",)))
    await service.send(
        UpdateGroup(tenant=tenant, group="a", spec=app_spec("a", sites, provider, depends_on=("b",))), tenant=tenant
    )
    errors = await eventually(lambda: letters(tenant, "update-group"), what="cycle refused")
    assert "spec.depends_on: a dependency cycle a -> b -> a" in errors[0]
    await service.send(
        CreateGroup(tenant=tenant, spec=app_spec("c", sites, provider, depends_on=("nope",))), tenant=tenant
    )
    errors = await eventually(lambda: letters(tenant, "create-group"), what="unknown dependency refused")
    assert "spec.depends_on: no DR group nope" in errors[0]
    await service.send(DeleteGroup(tenant=tenant, group="a"), tenant=tenant)
    errors = await eventually(lambda: letters(tenant, "delete-group"), what="delete refused")
    assert "dependency of b" in errors[0]
    g = await service.query("get-group", {"tenant": tenant, "group": "a"})
    assert g["depends_on"] == []
    assert [i["name"] for i in (await service.query("list-groups", {"tenant": tenant}))["items"]] == ["a", "b"]


async def test_a_failed_step_stops_the_plan_and_resume_finishes_it(
    service: Service, tenant: str, sites: tuple[Site, Site], provider: str, powerdns: PowerDNS
) -> None:
    broken = f"{provider}-later"  # not configured yet: the db's DNS switch fails
    await create(
        service,
        tenant,
        app_spec("db", sites, broken),
        app_spec("api", sites, provider, depends_on=("db",)),
    )
    cmd = await service.send(
        Switchover(tenant=tenant, group="api", reason="planned", requested_by="bob"), tenant=tenant
    )
    stopped = await eventually(
        lambda: [f for f in service.of(tenant, "plan-failed") if f.causationid == cmd.id], what="plan stopped"
    )
    assert stopped[0].data["step"] == 0 and stopped[0].data["step_group"] == "db"
    assert "not configured" in stopped[0].data["reason"] and "resume or rollback" in stopped[0].data["reason"]
    assert await answers(powerdns, "api") == []  # the dependent never moved (its record was never written)
    g = await service.query("get-group", {"tenant": tenant, "group": "api"})
    assert g["stopped_plan"] == cmd.id and g["active"] == "primary"
    assert g["switch_log"][-1]["result"] == "failed" and "plan stopped at step 0 (db)" in g["switch_log"][-1]["detail"]

    again = await service.send(Switchover(tenant=tenant, group="api", reason="again"), tenant=tenant)
    refusal = await eventually(
        lambda: [f for f in service.of(tenant, "switch-failed") if f.causationid == again.id], what="refused"
    )
    assert "resume or roll it back" in refusal[0].data["reason"]

    deps.dns_providers[broken] = deps.dns_providers[provider]  # the operator fixes the DNS provider
    res = await service.send(Resume(tenant=tenant, group="api", reason="pdns fixed", requested_by="bob"), tenant=tenant)
    done = await eventually(
        lambda: [f for f in service.of(tenant, "plan-finished") if f.causationid == res.id], what="resumed plan"
    )
    assert done[0].data["result"] == "done" and done[0].data["plan_id"] == cmd.id
    assert await answers(powerdns, "db") == ["127.0.0.2"] and await answers(powerdns, "api") == ["127.0.0.2"]
    plan = (await service.query("switch-history", {"tenant": tenant, "group": "api"}))["items"][0]["plan"]
    assert [a["action"] for a in plan["actions"]] == ["started", "failed", "resumed", "finished"]
    assert plan["steps"][0]["state"] == "done"
    g = await service.query("get-group", {"tenant": tenant, "group": "api"})
    assert g["stopped_plan"] is None and g["active"] == "standby"
    deps.dns_providers.pop(broken, None)


async def test_rollback_returns_the_moved_groups_in_reverse_order(
    service: Service, tenant: str, sites: tuple[Site, Site], provider: str, powerdns: PowerDNS
) -> None:
    broken = f"{provider}-down"
    await create(
        service,
        tenant,
        app_spec("db", sites, provider),
        app_spec("cache", sites, broken, depends_on=("db",)),
        app_spec("api", sites, provider, depends_on=("cache",)),
    )
    cmd = await service.send(Switchover(tenant=tenant, group="api", reason="planned"), tenant=tenant)
    stopped = await eventually(
        lambda: [f for f in service.of(tenant, "plan-failed") if f.causationid == cmd.id], what="plan stopped"
    )
    assert stopped[0].data["step_group"] == "cache"
    assert await answers(powerdns, "db") == ["127.0.0.2"]  # the step before the failure was done
    rb = await service.send(
        Rollback(tenant=tenant, group="api", reason="abort the move", requested_by="carol"), tenant=tenant
    )
    done = await eventually(
        lambda: [f for f in service.of(tenant, "plan-finished") if f.causationid == rb.id], what="rolled back"
    )
    assert done[0].data["result"] == "rolled-back"
    assert await answers(powerdns, "db") == ["127.0.0.1"] and await answers(powerdns, "api") == []
    back = [f for f in service.of(tenant, "switched") if f.causationid == rb.id]
    assert [f.data["group"] for f in back] == ["db"] and "rollback of plan" in back[0].data["reason"]
    plan = (await service.query("switch-history", {"tenant": tenant, "group": "db"}))["items"][0]["plan"]
    assert plan["state"] == "rolled-back"
    assert [s["state"] for s in plan["steps"]] == ["rolled-back", "rolled-back", "pending"]
    g = await service.query("get-group", {"tenant": tenant, "group": "api"})
    assert g["stopped_plan"] is None
    # the plan is over: a second rollback is refused
    await service.send(Rollback(tenant=tenant, group="api", plan=cmd.id, reason="again"), tenant=tenant)
    errors = await eventually(lambda: letters(tenant, "rollback"), what="second rollback refused")
    assert "is rolled-back" in errors[0]
