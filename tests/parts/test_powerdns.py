"""PowerDNS is real: a record changed through its HTTP API answers DNS queries."""

from __future__ import annotations

import aiohttp
import dns.asyncquery
import dns.message
import dns.rcode
import dns.rdatatype
from berth_testkit.powerdns import PowerDNS


async def _query_a(pdns: PowerDNS, name: str) -> tuple[int, list[str]]:
    msg = dns.message.make_query(name, dns.rdatatype.A)
    resp = await dns.asyncquery.udp(msg, "127.0.0.1", port=pdns.dns_port, timeout=5)
    return resp.rcode(), sorted(str(rr) for rrset in resp.answer for rr in rrset)


def _rrset(content: str) -> dict[str, object]:
    return {
        "rrsets": [
            {
                "name": "app.berth.test.",
                "type": "A",
                "ttl": 30,
                "changetype": "REPLACE",
                "records": [{"content": content, "disabled": False}],
            }
        ]
    }


async def test_record_changed_through_the_api_answers_dns(powerdns: PowerDNS) -> None:
    async with aiohttp.ClientSession(headers=powerdns.api_headers) as http:
        async with http.get(
            powerdns.api_url.replace("/servers/localhost", "/servers"), headers={"X-API-Key": "wrong"}
        ) as resp:
            assert resp.status == 401
        zone = {"name": "berth.test.", "kind": "Native", "nameservers": ["ns1.berth.test."]}
        async with http.post(f"{powerdns.api_url}/zones", json=zone) as resp:
            assert resp.status == 201, await resp.text()
        assert await _query_a(powerdns, "app.berth.test.") == (dns.rcode.NXDOMAIN, [])

        async with http.patch(f"{powerdns.api_url}/zones/berth.test.", json=_rrset("192.0.2.10")) as resp:
            assert resp.status == 204, await resp.text()
        assert await _query_a(powerdns, "app.berth.test.") == (dns.rcode.NOERROR, ["192.0.2.10"])

        # switch the site: the next query sees the new address (the API purges pdns' caches)
        async with http.patch(f"{powerdns.api_url}/zones/berth.test.", json=_rrset("198.51.100.20")) as resp:
            assert resp.status == 204, await resp.text()
        assert await _query_a(powerdns, "app.berth.test.") == (dns.rcode.NOERROR, ["198.51.100.20"])
