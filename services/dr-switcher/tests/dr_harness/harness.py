"""The running service's handle, group documents, a PowerDNS zone, DNS answers, polling."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import dns.asyncquery
import dns.message
import dns.rdatatype
from berth_common.events import Envelope
from berth_dr_switcher.app import app
from berth_testkit.powerdns import PowerDNS
from pydantic import BaseModel

from .sites import Site

ZONE = "dr.test."
RECORD = "shop.dr.test."


LAST_FACTS: list[Envelope] = []


@dataclass
class Service:
    facts: list[Envelope] = field(default_factory=lambda: LAST_FACTS)

    async def send(self, payload: BaseModel, *, tenant: str) -> Envelope:
        return await app.bus.emit(payload, tenant=tenant)

    async def query(self, op: str, body: dict[str, Any]) -> dict[str, Any]:
        return await app.bus.request("dr-switcher", op, body, timeout=5)

    def of(self, tenant: str, name: str | None = None) -> list[Envelope]:
        return [f for f in self.facts if f.tenant == tenant and (name is None or f.type == f"berth.dr.{name}.v1")]


async def eventually(check: Callable[[], Any], *, within: float = 10.0, what: str = "") -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = check()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            seen = "\n".join(f"  {f.time:%H:%M:%S.%f} {f.tenant} {f.type} {f.data}" for f in LAST_FACTS[-15:])
            raise AssertionError(f"timed out after {within}s waiting for {what or check}; last facts:\n{seen}")
        await asyncio.sleep(0.02)


async def create_zone(pdns: PowerDNS, *, initial: str) -> None:
    zone = {
        "name": ZONE,
        "kind": "Native",
        "nameservers": [f"ns1.{ZONE}"],
        "rrsets": [{"name": RECORD, "type": "A", "ttl": 30, "records": [{"content": initial, "disabled": False}]}],
    }
    async with (
        aiohttp.ClientSession(headers=pdns.api_headers) as http,
        http.post(f"{pdns.api_url}/zones", json=zone) as resp,
    ):
        assert resp.status == 201, await resp.text()


async def dns_answer(pdns: PowerDNS, name: str = RECORD) -> tuple[list[str], int]:
    """(addresses, ttl) the real server answers now."""
    msg = dns.message.make_query(name, dns.rdatatype.A)
    resp = await dns.asyncquery.udp(msg, "127.0.0.1", port=pdns.dns_port, timeout=2)
    addrs = sorted(str(rr) for rrset in resp.answer for rr in rrset)
    ttl = resp.answer[0].ttl if resp.answer else 0
    return addrs, ttl


def group_spec(name: str, primary: Site, standby: Site, *, provider: str | None = None, **over: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": name,
        "primary": {"name": "idc-a", "dns_targets": [primary.host], "probes": [{"kind": "http", "url": primary.url}]},
        "standby": {
            "name": "idc-b",
            "dns_targets": [standby.host],
            "probes": [
                {"kind": "http", "url": standby.url, "expect_body": "ok"},
                {"kind": "tcp", "name": "tcp", "host": standby.host, "port": standby.port},
            ],
        },
        "probe": {"interval_seconds": 0.2, "timeout_seconds": 0.15, "failure_threshold": 3, "recovery_threshold": 2},
        "hold_down_seconds": 2,
        "switch_timeout_seconds": 10,
    }
    if provider is not None:
        spec["dns"] = {"provider": provider, "zone": ZONE, "record": RECORD, "ttl": 5}
    spec.update(over)
    return spec
