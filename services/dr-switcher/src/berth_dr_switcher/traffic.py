"""Move traffic to a site: PowerDNS record (verified by a real query) and/or the ingress
canary weight. Returns a one-line description of what was done."""

from __future__ import annotations

import time

from berth_schema.dr.spec import GroupSpec

from .adapters.ingress import IngressSwitchFailed, set_canary_weight
from .adapters.powerdns import DnsSwitchFailed, replace_record, verify_record
from .config import Deps, NoProvider
from .domain.plan import TrafficPlan


class TrafficMoveFailed(Exception):
    pass


async def move_traffic(spec: GroupSpec, plan: TrafficPlan, deps: Deps) -> str:
    began = time.monotonic()
    done: list[str] = []
    try:
        if plan.dns_targets is not None:
            assert spec.dns is not None
            provider = deps.dns_provider(spec.dns.provider)
            await replace_record(provider, spec.dns, plan.dns_targets)
            waited = await verify_record(provider, spec.dns, plan.dns_targets)
            done.append(
                f"{spec.dns.record} {spec.dns.type} -> {', '.join(plan.dns_targets)} (ttl {spec.dns.ttl}s, "
                f"answered by {len(provider.verify)} server(s) after {waited * 1000:.0f}ms)"
            )
        if plan.canary_weight is not None:
            assert spec.ingress is not None and spec.standby.ingress is not None
            api = await deps.kube_client(spec.ingress.cluster)
            try:
                await set_canary_weight(api, spec.ingress, spec.standby.ingress, plan.canary_weight)
            finally:
                await api.close()
            done.append(f"ingress {spec.ingress.namespace}/{spec.standby.ingress} canary-weight {plan.canary_weight}")
    except (DnsSwitchFailed, IngressSwitchFailed, NoProvider) as exc:
        prefix = f"after {'; '.join(done)}: " if done else ""
        raise TrafficMoveFailed(f"{prefix}{exc}") from None
    return f"{'; '.join(done)} in {(time.monotonic() - began) * 1000:.0f}ms"
