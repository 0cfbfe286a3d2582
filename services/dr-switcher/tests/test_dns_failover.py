"""The service on real NATS with a real PowerDNS and two loopback sites: commands in,
facts out, and the DNS record really answers the active site."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

from berth_schema.dr import CreateGroup, Drill, Failback, Switchover
from berth_testkit.powerdns import PowerDNS
from dr_harness.harness import Service, dns_answer, eventually, group_spec
from dr_harness.sites import Site


async def _ready(service: Service, tenant: str, name: str) -> dict:
    async def both_healthy() -> dict | None:
        try:
            g = await service.query("get-group", {"tenant": tenant, "group": name})
        except Exception:
            return None
        ok = g["primary"]["healthy"] and g["standby"]["healthy"] and g["state"] == "active-primary"
        return g if ok else None

    return await eventually(both_healthy, what=f"group {name} probed healthy")


async def test_failover_on_primary_failure_then_failback(
    service: Service, tenant: str, sites: tuple[Site, Site], provider: str, powerdns: PowerDNS
) -> None:
    primary, standby = sites
    await service.send(
        CreateGroup(tenant=tenant, spec=group_spec("shop", primary, standby, provider=provider), requested_by="alice"),
        tenant=tenant,
    )
    await _ready(service, tenant, "shop")
    assert (await dns_answer(powerdns))[0] == ["127.0.0.1"]

    primary.answer(500)
    failed_at = time.monotonic()

    async def standby_answers() -> bool:
        return (await dns_answer(powerdns))[0] == ["127.0.0.2"]

    await eventually(standby_answers, within=10, what="DNS answering the standby")
    elapsed = time.monotonic() - failed_at
    addrs, ttl = await dns_answer(powerdns)
    assert addrs == ["127.0.0.2"]
    assert ttl == 5
    print(f"\nprimary failure -> DNS answers standby: {elapsed * 1000:.0f} ms (interval 0.2s, N=3)")
    assert elapsed < 3.0

    await eventually(lambda: service.of(tenant, "switched"), what="switched fact")
    probe_failed = service.of(tenant, "probe-failed")
    assert probe_failed and probe_failed[0].data["site"] == "primary" and "HTTP 500" in probe_failed[0].data["detail"]
    assert probe_failed[0].subject == "dr-groups/shop/sites/primary"
    started = service.of(tenant, "switch-started")[0].data
    assert started["kind"] == "failover" and started["automatic"] and started["to_site"] == "standby"
    switched = service.of(tenant, "switched")[0].data
    assert switched["switch_id"] == started["switch_id"] and "127.0.0.2" in switched["detail"]
    await eventually(
        lambda: any(f.data["to_state"] == "active-standby" for f in service.of(tenant, "group-state-changed")),
        what="state active-standby",
    )
    states = [(f.data["from_state"], f.data["to_state"]) for f in service.of(tenant, "group-state-changed")]
    assert states[:4] == [
        (None, "active-primary"),
        ("active-primary", "degraded"),
        ("degraded", "switching-over"),
        ("switching-over", "active-standby"),
    ]
    assert service.of(tenant, "group-created")[0].data["requested_by"] == "alice"

    # failback is refused while the primary is still down, with the reason
    cmd = await service.send(Failback(tenant=tenant, group="shop", reason="try", requested_by="bob"), tenant=tenant)
    refusal = await eventually(
        lambda: [f for f in service.of(tenant, "switch-failed") if f.causationid == cmd.id], what="refusal"
    )
    assert refusal[0].data["refused"] and "failback needs a healthy primary" in refusal[0].data["reason"]
    assert refusal[0].correlationid == cmd.id

    primary.answer(200)
    await eventually(
        lambda: any(f.data["site"] == "primary" for f in service.of(tenant, "probe-recovered")), what="recovery"
    )
    cmd = await service.send(
        Failback(tenant=tenant, group="shop", reason="idc-a repaired", requested_by="bob"), tenant=tenant
    )
    back = await eventually(
        lambda: [f for f in service.of(tenant, "switched") if f.causationid == cmd.id], what="failback switched"
    )
    assert back[0].data["kind"] == "failback" and back[0].data["requested_by"] == "bob"
    assert (await dns_answer(powerdns))[0] == ["127.0.0.1"]

    g = await service.query("get-group", {"tenant": tenant, "group": "shop"})
    assert g["state"] == "active-primary" and g["active"] == "primary"
    assert [e["result"] for e in g["switch_log"]] == ["switched", "refused", "switched"]
    assert [e["kind"] for e in g["switch_log"]] == ["failover", "failback", "failback"]
    assert any(not h["ok"] and "HTTP 500" in h["detail"] for h in g["health"]["primary"]["history"])
    listed = await service.query("list-groups", {"tenant": tenant})
    assert [i["name"] for i in listed["items"]] == ["shop"] and listed["items"][0]["mode"] == ["dns"]


async def test_flapping_primary_does_not_flap_traffic(
    service: Service, tenant: str, sites: tuple[Site, Site], provider: str, powerdns: PowerDNS
) -> None:
    primary, standby = sites
    spec = group_spec("flappy", primary, standby, provider=provider, auto_failback=True, hold_down_seconds=2.5)
    await service.send(CreateGroup(tenant=tenant, spec=spec), tenant=tenant)
    await _ready(service, tenant, "flappy")
    # short failure streaks (< N = 3) never move traffic
    primary.flap([500, 500, 200])
    await asyncio.sleep(1.5)
    assert not service.of(tenant, "switch-started")
    # a real outage: one failover
    primary.answer(500)
    await eventually(lambda: service.of(tenant, "switched"), what="failover")
    # the primary comes back but flaps: the hold-down keeps traffic on the standby
    primary.flap([200, 200, 200, 500, 500, 500])
    await asyncio.sleep(2.0)
    assert len(service.of(tenant, "switch-started")) == 1, [f.data for f in service.of(tenant, "switch-started")]
    primary.answer(200)
    back = await eventually(lambda: service.of(tenant, "switched")[1:], within=10, what="automatic failback")
    assert back[0].data["kind"] == "failback" and back[0].data["automatic"]
    first = service.of(tenant, "switched")[0]
    # the hold-down (2.5s) runs from the failover's completion to the failback's start
    held = datetime.fromisoformat(back[0].data["started_at"]) - first.time
    assert held.total_seconds() >= 2.4, held
    assert (await dns_answer(powerdns))[0] == ["127.0.0.1"]
    await asyncio.sleep(0.6)
    assert len(service.of(tenant, "switch-started")) == 2


async def test_drill_switches_and_switches_back(
    service: Service, tenant: str, sites: tuple[Site, Site], provider: str, powerdns: PowerDNS
) -> None:
    primary, standby = sites
    await service.send(
        CreateGroup(tenant=tenant, spec=group_spec("drilled", primary, standby, provider=provider)), tenant=tenant
    )
    await _ready(service, tenant, "drilled")
    cmd = await service.send(
        Drill(tenant=tenant, group="drilled", reason="quarterly DR drill", duration_seconds=1.5, requested_by="ops"),
        tenant=tenant,
    )
    await eventually(lambda: service.of(tenant, "switched"), what="drill switch")
    assert (await dns_answer(powerdns))[0] == ["127.0.0.2"]
    g = await service.query("get-group", {"tenant": tenant, "group": "drilled"})
    assert g["state"] == "drill" and g["drill"]["id"] == cmd.id
    back = await eventually(lambda: service.of(tenant, "switched")[1:], within=10, what="drill return")
    assert back[0].data["kind"] == "drill-return" and back[0].data["automatic"]
    assert (await dns_answer(powerdns))[0] == ["127.0.0.1"]
    await eventually(
        lambda: any(
            f.data["to_state"] == "active-primary" and f.data["drill"]
            for f in service.of(tenant, "group-state-changed")
        ),
        what="state back to active-primary",
    )
    drill_facts = [f for f in service.of(tenant) if f.type not in ("berth.dr.group-created.v1",)]
    drill_facts = [f for f in drill_facts if f.time >= cmd.time]
    assert drill_facts and all(f.data["drill"] and f.data["drill_id"] == cmd.id for f in drill_facts), [
        (f.type, f.data.get("drill_id")) for f in drill_facts
    ]


async def test_switch_to_unhealthy_standby_is_refused(
    service: Service, tenant: str, sites: tuple[Site, Site], provider: str, powerdns: PowerDNS
) -> None:
    primary, standby = sites
    await service.send(
        CreateGroup(tenant=tenant, spec=group_spec("guarded", primary, standby, provider=provider)), tenant=tenant
    )
    await _ready(service, tenant, "guarded")
    standby.answer(503)
    await eventually(lambda: service.of(tenant, "probe-failed"), what="standby marked down")
    cmd = await service.send(Switchover(tenant=tenant, group="guarded", reason="planned maintenance"), tenant=tenant)
    refusal = await eventually(
        lambda: [f for f in service.of(tenant, "switch-failed") if f.causationid == cmd.id], what="refusal"
    )
    reason = refusal[0].data["reason"]
    assert refusal[0].data["refused"] and "refusing to switch to an unhealthy site" in reason and "idc-b" in reason
    assert "HTTP 503" in reason
    # the primary fails too: automatic failover is refused once, traffic stays
    primary.answer(500)
    auto = await eventually(
        lambda: [f for f in service.of(tenant, "switch-failed") if f.data["automatic"]], what="automatic refusal"
    )
    assert "not failing over to an unhealthy site" in auto[0].data["reason"]
    await asyncio.sleep(1.0)
    assert len([f for f in service.of(tenant, "switch-failed") if f.data["automatic"]]) == 1
    assert not service.of(tenant, "switch-started")
    assert (await dns_answer(powerdns))[0] == ["127.0.0.1"]
    g = await service.query("get-group", {"tenant": tenant, "group": "guarded"})
    assert g["state"] == "degraded" and g["active"] == "primary"


async def test_linked_group_follows_a_failover(
    service: Service, tenant: str, sites: tuple[Site, Site], provider: str, powerdns: PowerDNS
) -> None:
    primary, standby = sites
    api = group_spec("api", primary, standby, provider=provider)
    api["dns"]["record"] = "api.dr.test."
    # the api's own probes stay green (TCP connects even while HTTP answers 500): it moves only
    # because it is linked to the front end
    api["primary"]["probes"] = [{"kind": "tcp", "host": primary.host, "port": primary.port}]
    front = group_spec("front", primary, standby, provider=provider, linked_groups=["api"])
    await service.send(CreateGroup(tenant=tenant, spec=api), tenant=tenant)
    await service.send(CreateGroup(tenant=tenant, spec=front), tenant=tenant)
    await _ready(service, tenant, "api")
    await _ready(service, tenant, "front")
    primary.answer(500)

    async def api_on_standby() -> bool:
        return (await dns_answer(powerdns, "api.dr.test."))[0] == ["127.0.0.2"]

    await eventually(api_on_standby, what="the linked group's record on the standby")
    assert (await dns_answer(powerdns))[0] == ["127.0.0.2"]
    followed = await eventually(
        lambda: [f for f in service.of(tenant, "switched") if f.data["group"] == "api"], what="api switched"
    )
    assert followed[0].data["kind"] == "switchover"
    assert "follows group front (failover to standby)" in followed[0].data["reason"]
    g = await service.query("get-group", {"tenant": tenant, "group": "api"})
    assert g["primary"]["healthy"] is True and g["active"] == "standby"
