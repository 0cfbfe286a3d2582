"""Bad input on the bus: a clear dead-letter reason naming the field; nothing stored."""

from __future__ import annotations

from berth_dr_switcher.app import app
from berth_schema.dr import CreateGroup, Switchover
from dr_harness.harness import Service, eventually, group_spec
from dr_harness.sites import Site


async def test_invalid_group_is_dead_lettered_with_the_field(
    service: Service, tenant: str, sites: tuple[Site, Site]
) -> None:
    spec = group_spec("bad", *sites, provider="default")
    spec["probe"]["timeout_seconds"] = 5  # longer than the 0.2s interval
    await service.send(CreateGroup(tenant=tenant, spec=spec), tenant=tenant)

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
