"""Bad input on the bus: a clear dead-letter reason naming the field; nothing stored."""

from __future__ import annotations

import pytest
from berth_common.events import Envelope, registry
from berth_dr_switcher.app import app
from berth_schema.dr import CreateGroup, Switchover
from dr_harness.harness import Service, eventually, group_spec
from dr_harness.sites import Site
from pydantic import ValidationError


async def test_the_command_refuses_a_bad_group_naming_the_field(sites: tuple[Site, Site]) -> None:
    spec = group_spec("bad", *sites, provider="default")
    spec["probe"]["timeout_seconds"] = 5  # longer than the 0.2s interval
    with pytest.raises(ValidationError) as exc:
        CreateGroup(tenant="t1", spec=spec)
    assert [e["loc"] for e in exc.value.errors()] == [("spec", "probe")]
    assert "timeout_seconds" in str(exc.value)
    with pytest.raises(ValidationError) as exc:
        CreateGroup(tenant="t1", spec={**group_spec("bad", *sites, provider="default"), "colour": "blue"})
    assert [e["loc"] for e in exc.value.errors()] == [("spec", "colour")]


async def test_invalid_group_is_dead_lettered_with_the_field(
    service: Service, tenant: str, sites: tuple[Site, Site]
) -> None:
    spec = group_spec("bad", *sites, provider="default")
    spec["probe"]["timeout_seconds"] = 5  # longer than the 0.2s interval
    # a producer that does not use the schema: the bus refuses to publish it, so go around it
    msg = registry.spec_for(CreateGroup)
    env = Envelope(source="test", type=msg.type, data={"tenant": tenant, "spec": spec}, tenant=tenant)
    await app.bus.js.publish(msg.subject, env.to_json(), headers={"Nats-Msg-Id": env.id})

    async def letter() -> list[str]:
        return [
            d.error
            for d in await app.bus.dead_letters(service="dr-switcher", limit=1000)
            if tenant in d.data and "create" in d.subject
        ]

    errors = await eventually(letter, what="dead letter")
    assert "spec.probe" in errors[0] and "timeout_seconds" in errors[0]
    assert (await service.query("list-groups", {"tenant": tenant}))["items"] == []


async def test_switch_of_unknown_group_is_dead_lettered(service: Service, tenant: str) -> None:
    await service.send(Switchover(tenant=tenant, group="nope", reason="r"), tenant=tenant)

    async def letter() -> list[str]:
        return [d.error for d in await app.bus.dead_letters(service="dr-switcher", limit=1000) if tenant in d.data]

    errors = await eventually(letter, what="dead letter")
    assert "DR group nope not found" in errors[0]
