"""Run a site's health probes: HTTP(S) GET, TCP connect, DNS answer."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import datetime

import aiohttp
import dns.asyncresolver
import dns.exception
import dns.resolver
from berth_schema.dr.spec import DnsProbe, HttpProbe, Site, TcpProbe

from ..domain.status import ProbeResult, ProbeRound

BODY_LIMIT = 64 * 1024


class Prober:
    """Owns one aiohttp session for all HTTP probes (no connection reuse: every probe opens
    a fresh connection, so a dead site cannot hide behind a pooled socket). ``local_addr``: the
    source address of HTTP and TCP probes (a witness agent on a host with several addresses)."""

    def __init__(self, *, local_addr: str | None = None) -> None:
        self._session: aiohttp.ClientSession | None = None
        self.local_addr = local_addr

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            bind = (self.local_addr, 0) if self.local_addr else None
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(force_close=True, limit=0, local_addr=bind)
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def probe_site(self, site: Site, *, within: float, now: datetime) -> ProbeRound:
        results = await asyncio.gather(*(self.probe(p, within=within) for p in site.probes))
        return ProbeRound(at=now, results=list(results))

    async def probe(self, probe: HttpProbe | TcpProbe | DnsProbe, *, within: float) -> ProbeResult:
        began = time.monotonic()
        try:
            async with asyncio.timeout(within):
                if isinstance(probe, HttpProbe):
                    ok, detail = await self._probe_http(probe)
                elif isinstance(probe, TcpProbe):
                    ok, detail = await _probe_tcp(probe, local_addr=self.local_addr)
                else:
                    ok, detail = await _probe_dns(probe, within=within)
        except TimeoutError:
            ok, detail = False, f"timed out after {within:g}s"
        except (aiohttp.ClientError, OSError, dns.exception.DNSException) as exc:
            ok, detail = False, f"{type(exc).__name__}: {exc}"[:300]
        latency = (time.monotonic() - began) * 1000
        return ProbeResult(probe=probe.name, ok=ok, detail=detail, latency_ms=round(latency, 2))

    async def _probe_http(self, probe: HttpProbe) -> tuple[bool, str]:
        async with self._http().get(
            probe.url, headers=probe.headers, ssl=probe.verify_tls, allow_redirects=False
        ) as resp:
            body = await resp.content.read(BODY_LIMIT) if probe.expect_body is not None else b""
            if resp.status not in probe.expect_status:
                return False, f"HTTP {resp.status} (expected {', '.join(map(str, probe.expect_status))})"
            if probe.expect_body is not None and probe.expect_body not in body.decode(errors="replace"):
                return False, f"HTTP {resp.status} but the body lacks {probe.expect_body!r}"
            return True, f"HTTP {resp.status}"


async def _probe_tcp(probe: TcpProbe, *, local_addr: str | None = None) -> tuple[bool, str]:
    bind = (local_addr, 0) if local_addr else None
    _reader, writer = await asyncio.open_connection(probe.host, probe.port, local_addr=bind)
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True, "connected"


async def _probe_dns(probe: DnsProbe, *, within: float) -> tuple[bool, str]:
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = [probe.server]
    resolver.port = probe.port
    resolver.lifetime = within
    try:
        answer = await resolver.resolve(probe.qname, probe.rdtype)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer) as exc:
        return False, f"no answer: {type(exc).__name__}"
    values = sorted(r.to_text().strip('"').rstrip(".") for r in answer)
    if probe.expect:
        wanted = {e.rstrip(".") for e in probe.expect}
        if not wanted & set(values):
            return False, f"answer {values} has none of {sorted(wanted)}"
    return True, f"answer {values}"
