"""Ask a witness (a third vantage point) whether it reaches a site: POST the site's probes to
the witness agent (see ``berth_dr_switcher.witness``), which runs them where it stands."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aiohttp
from berth_schema.dr.spec import Site, SiteRole, Witness
from pydantic import ValidationError

from ..domain.status import ProbeResult, WitnessCheck


def witness_request(group: str, site: Site, *, probe_timeout: float) -> dict[str, Any]:
    return {
        "group": group,
        "site": site.name,
        "probes": [p.model_dump(mode="json") for p in site.probes],
        "timeout_seconds": probe_timeout,
    }


async def ask_witness(
    witness: Witness, group: str, role: SiteRole, site: Site, *, probe_timeout: float, at: datetime
) -> WitnessCheck:
    """The witness's view of ``site``; ``reachable`` is None when the witness did not answer."""
    body = witness_request(group, site, probe_timeout=probe_timeout)
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=witness.timeout_seconds)) as http,
            http.post(witness.url, json=body, headers=witness.headers) as resp,
        ):
            if resp.status != 200:
                text = (await resp.text())[:200]
                return _unanswered(witness, role, at, f"HTTP {resp.status}: {text}")
            reply = await resp.json()
        results = [ProbeResult.model_validate(r) for r in reply.get("results", [])]
        reachable = bool(reply["reachable"])
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        return _unanswered(witness, role, at, f"{type(exc).__name__}: {exc}"[:300])
    except (KeyError, TypeError, ValueError, ValidationError) as exc:
        return _unanswered(witness, role, at, f"unexpected answer: {exc}"[:300])
    bad = [f"{r.probe}: {r.detail}" for r in results if not r.ok]
    detail = f"reaches site {site.name}" if reachable else f"cannot reach site {site.name}: {'; '.join(bad)}"
    return WitnessCheck(url=witness.url, site=role, at=at, reachable=reachable, detail=detail, results=results)


def _unanswered(witness: Witness, role: SiteRole, at: datetime, detail: str) -> WitnessCheck:
    return WitnessCheck(url=witness.url, site=role, at=at, reachable=None, detail=detail)
