"""The witness agent: a small HTTP service run away from Berth (in the peer site, or a third
place). dr-switcher POSTs a failing site's probes to it; it runs them from where it stands and
answers whether the site is reachable, so a partition between Berth and one site is not taken
for that site's failure.

    python -m berth_dr_switcher.witness --port 8089 [--local-addr 10.0.0.5]

POST /v1/probe  {"group", "site", "probes": [probe documents as in a group spec], "timeout_seconds"}
-> 200 {"reachable": bool, "results": [{"probe", "ok", "detail", "latency_ms"}]}
"""

from __future__ import annotations

import argparse
import asyncio

from aiohttp import web
from berth_schema.dr.spec import Probe
from pydantic import BaseModel, Field, ValidationError

from .adapters.probes import Prober


class WitnessRequest(BaseModel):
    group: str = Field(default="", max_length=63)
    site: str = Field(default="", max_length=63)
    probes: list[Probe] = Field(min_length=1, max_length=10)
    timeout_seconds: float = Field(default=3.0, gt=0, le=60)


def make_app(prober: Prober) -> web.Application:
    async def probe(request: web.Request) -> web.Response:
        try:
            req = WitnessRequest.model_validate(await request.json())
        except (ValidationError, ValueError) as exc:
            return web.json_response({"error": str(exc)[:1000]}, status=400)
        results = await asyncio.gather(*(prober.probe(p, within=req.timeout_seconds) for p in req.probes))
        return web.json_response(
            {"reachable": all(r.ok for r in results), "results": [r.model_dump(mode="json") for r in results]}
        )

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def close(app: web.Application) -> None:
        await prober.close()

    app = web.Application()
    app.router.add_post("/v1/probe", probe)
    app.router.add_get("/healthz", healthz)
    app.on_cleanup.append(close)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--local-addr", default=None, help="source address of the probes")
    args = parser.parse_args()
    web.run_app(make_app(Prober(local_addr=args.local_addr)), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
