"""The probe adapter against real servers: HTTP status/body, TCP connect, DNS answers, timeouts."""

from __future__ import annotations

import asyncio

from berth_dr_switcher.adapters.probes import Prober
from berth_schema.dr.spec import DnsProbe, HttpProbe, TcpProbe
from berth_testkit.powerdns import PowerDNS
from berth_testkit.procs import free_port
from dr_harness.harness import RECORD, create_zone
from dr_harness.sites import Site


async def test_http_tcp_and_dns_probes(sites: tuple[Site, Site], powerdns: PowerDNS) -> None:
    primary, _ = sites
    prober = Prober()
    try:
        ok = await prober.probe(HttpProbe(url=primary.url, expect_body="ok"), within=1)
        assert ok.ok and ok.detail == "HTTP 200" and ok.latency_ms > 0
        primary.answer(503)
        bad = await prober.probe(HttpProbe(url=primary.url), within=1)
        assert not bad.ok and bad.detail == "HTTP 503 (expected 200)"
        accepted = await prober.probe(HttpProbe(url=primary.url, expect_status=[200, 503], expect_body="ok"), within=1)
        assert not accepted.ok and "lacks 'ok'" in accepted.detail

        assert (await prober.probe(TcpProbe(host=primary.host, port=primary.port), within=1)).ok
        closed = await prober.probe(TcpProbe(host="127.0.0.1", port=free_port()), within=1)
        assert not closed.ok and "ConnectionRefusedError" in closed.detail

        await create_zone(powerdns, initial="127.0.0.9")
        dns_ok = await prober.probe(
            DnsProbe(qname=RECORD, server="127.0.0.1", port=powerdns.dns_port, expect=["127.0.0.9"]), within=1
        )
        assert dns_ok.ok and "127.0.0.9" in dns_ok.detail
        dns_wrong = await prober.probe(
            DnsProbe(qname=RECORD, server="127.0.0.1", port=powerdns.dns_port, expect=["10.0.0.1"]), within=1
        )
        assert not dns_wrong.ok and "none of" in dns_wrong.detail
        nx = await prober.probe(DnsProbe(qname="nope.dr.test", server="127.0.0.1", port=powerdns.dns_port), within=1)
        assert not nx.ok and "NXDOMAIN" in nx.detail
    finally:
        await prober.close()


async def test_a_hanging_site_times_out() -> None:
    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(hang, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    prober = Prober()
    try:
        result = await prober.probe(HttpProbe(url=f"http://127.0.0.1:{port}/healthz"), within=0.3)
        assert not result.ok and result.detail == "timed out after 0.3s"
        assert result.latency_ms < 1000
    finally:
        await prober.close()
        server.close()
