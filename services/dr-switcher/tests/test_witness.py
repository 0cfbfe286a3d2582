"""The witness on the real service: a partition between Berth and the primary (the witness
still reaches it) does not fail over; a real failure (neither reaches it) does, and the
decision with the probes that made it is on the switch and in the history."""

from __future__ import annotations

import asyncio

from berth_schema.dr import CreateGroup
from berth_testkit.powerdns import PowerDNS
from dr_harness.harness import Service, dns_answer, eventually, group_spec
from dr_harness.sites import Site

BERTH_ADDR = "127.0.0.1"  # where Berth's probes come from


async def _ready(service: Service, tenant: str, name: str) -> None:
    async def healthy() -> bool:
        try:
            g = await service.query("get-group", {"tenant": tenant, "group": name})
        except Exception:
            return False
        return bool(g["primary"]["healthy"] and g["standby"]["healthy"] and g["state"] == "active-primary")

    await eventually(healthy, what=f"{name} probed healthy")


async def test_a_partition_does_not_fail_over_a_real_failure_does(
    service: Service, tenant: str, sites: tuple[Site, Site], provider: str, powerdns: PowerDNS, witness: str
) -> None:
    primary, standby = sites
    spec = group_spec("shop", primary, standby, provider=provider, witness={"url": witness, "timeout_seconds": 2})
    await service.send(CreateGroup(tenant=tenant, spec=spec, requested_by="alice"), tenant=tenant)
    await _ready(service, tenant, "shop")

    # Berth loses the primary; the witness still reaches it
    primary.partition(BERTH_ADDR)
    held = await eventually(
        lambda: [f for f in service.of(tenant, "switch-failed") if f.data["automatic"]], what="failover held"
    )
    reason = held[0].data["reason"]
    assert held[0].data["refused"] and reason.startswith("partition: Berth cannot reach site idc-a but the witness")
    await asyncio.sleep(1.5)  # several more failing rounds
    assert not service.of(tenant, "switch-started")
    assert len([f for f in service.of(tenant, "switch-failed") if f.data["automatic"]]) == 1
    assert (await dns_answer(powerdns))[0] == ["127.0.0.1"]
    g = await service.query("get-group", {"tenant": tenant, "group": "shop"})
    assert g["primary"]["healthy"] is False and g["active"] == "primary"

    # the primary really fails: neither Berth nor the witness reaches it
    primary.answer(500)
    await eventually(lambda: service.of(tenant, "switched"), what="failover")
    assert (await dns_answer(powerdns))[0] == ["127.0.0.2"]

    history = (await service.query("switch-history", {"tenant": tenant, "group": "shop"}))["items"]
    failover, partition = history[0], history[1]
    assert failover["kind"] == "failover" and failover["result"] == "switched"
    assert failover["trigger"] == "automatic (probes + witness)" and failover["requested_by"] == "dr-switcher"
    decision = failover["decision"]
    assert decision["site"] == "primary" and "the witness" in decision["verdict"] and "agrees" in decision["verdict"]
    assert decision["witness"]["reachable"] is False and decision["witness"]["url"] == witness
    assert [r["ok"] for r in decision["witness"]["results"]] == [False]
    assert "HTTP 500" in decision["witness"]["results"][0]["detail"]
    assert len(decision["berth"]) == 3 and not any(e["ok"] for e in decision["berth"])
    assert failover["duration_ms"] >= 0 and failover["plan"] is None

    assert partition["result"] == "refused" and partition["kind"] == "failover"
    assert partition["decision"]["witness"]["reachable"] is True
    assert partition["decision"]["witness"]["results"][0]["detail"] == "HTTP 200"


async def test_without_an_answer_from_the_witness_berth_holds(
    service: Service, tenant: str, sites: tuple[Site, Site], provider: str, powerdns: PowerDNS
) -> None:
    primary, standby = sites
    gone = "http://127.0.0.3:9/v1/probe"  # nothing listens there
    spec = group_spec("shop", primary, standby, provider=provider, witness={"url": gone, "timeout_seconds": 1})
    await service.send(CreateGroup(tenant=tenant, spec=spec), tenant=tenant)
    await _ready(service, tenant, "shop")
    primary.answer(500)
    held = await eventually(
        lambda: [f for f in service.of(tenant, "switch-failed") if f.data["automatic"]], what="failover held"
    )
    assert "did not answer" in held[0].data["reason"] and "witness.if_unreachable=hold" in held[0].data["reason"]
    assert not service.of(tenant, "switch-started")
    assert (await dns_answer(powerdns))[0] == ["127.0.0.1"]
