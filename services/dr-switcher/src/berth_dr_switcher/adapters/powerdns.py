"""Point a DNS record at the active site through PowerDNS's HTTP API, then check that the
authoritative server really answers the new contents."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

import aiohttp
import dns.asyncresolver
import dns.exception
import dns.resolver
from berth_schema.dr.spec import DnsSwitch


class DnsSwitchFailed(Exception):
    """The record could not be changed or the server does not answer the new contents."""


@dataclass(frozen=True, kw_only=True)
class PowerDnsProvider:
    """``api_url`` is ``http://host:port/api/v1/servers/<server-id>``; ``verify`` lists the
    ``(ip, port)`` of authoritative servers that must answer the new contents."""

    api_url: str
    api_key: str = field(repr=False)
    verify: Sequence[tuple[str, int]] = ()
    verify_seconds: float = 10.0


def _content(rtype: str, target: str) -> str:
    if rtype == "CNAME" and not target.endswith("."):
        return target + "."
    return target


async def replace_record(
    provider: PowerDnsProvider, dns_switch: DnsSwitch, targets: Sequence[str], *, within: float = 10.0
) -> None:
    """PATCH the zone: REPLACE the record's rrset with ``targets`` at the switch's TTL."""
    body = {
        "rrsets": [
            {
                "name": dns_switch.record,
                "type": dns_switch.type,
                "ttl": dns_switch.ttl,
                "changetype": "REPLACE",
                "records": [{"content": _content(dns_switch.type, t), "disabled": False} for t in targets],
            }
        ]
    }
    url = f"{provider.api_url.rstrip('/')}/zones/{quote(dns_switch.zone, safe='.')}"
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=within)) as http,
            http.patch(url, json=body, headers={"X-API-Key": provider.api_key}) as resp,
        ):
            if resp.status != 204:
                text = (await resp.text())[:300]
                raise DnsSwitchFailed(f"PowerDNS answered HTTP {resp.status} for zone {dns_switch.zone}: {text}")
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise DnsSwitchFailed(f"PowerDNS API unreachable: {type(exc).__name__}: {exc}") from None


async def answers(server: tuple[str, int], name: str, rtype: str, *, within: float = 2.0) -> set[str]:
    """What ``server`` answers for name/type right now (empty set for NXDOMAIN / no answer)."""
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = [server[0]]
    resolver.port = server[1]
    resolver.lifetime = within
    try:
        answer = await resolver.resolve(name, rtype)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return set()
    return {r.to_text() for r in answer}


async def verify_record(provider: PowerDnsProvider, dns_switch: DnsSwitch, targets: Sequence[str]) -> float:
    """Wait until every verify server answers exactly ``targets``; returns the seconds it took."""
    want = {_content(dns_switch.type, t) for t in targets}
    began = time.monotonic()
    deadline = began + provider.verify_seconds
    for server in provider.verify:
        last: set[str] | str = set()
        while True:
            try:
                last = await answers(server, dns_switch.record, dns_switch.type)
                if last == want:
                    break
            except dns.exception.DNSException as exc:
                last = f"{type(exc).__name__}"
            if time.monotonic() > deadline:
                raise DnsSwitchFailed(
                    f"{server[0]}:{server[1]} answers {last or 'nothing'} for {dns_switch.record} "
                    f"{dns_switch.type}, expected {sorted(want)}"
                )
            await asyncio.sleep(0.05)
    return time.monotonic() - began
