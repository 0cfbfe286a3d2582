"""Where traffic must point once a site is active: the DNS record contents and the
ingress-nginx canary weight of the standby's Ingress."""

from __future__ import annotations

from dataclasses import dataclass

from berth_schema.dr.spec import GroupSpec, SiteRole

FULL = 100


@dataclass(frozen=True, kw_only=True)
class TrafficPlan:
    to: SiteRole
    dns_targets: tuple[str, ...] | None
    canary_weight: int | None  # weight on the standby's Ingress; None when not in ingress mode

    def describe(self) -> str:
        parts = []
        if self.dns_targets is not None:
            parts.append(f"dns -> {', '.join(self.dns_targets)}")
        if self.canary_weight is not None:
            parts.append(f"standby ingress canary-weight {self.canary_weight}")
        return "; ".join(parts)


def traffic_plan(spec: GroupSpec, to: SiteRole) -> TrafficPlan:
    return TrafficPlan(
        to=to,
        dns_targets=tuple(spec.site(to).dns_targets) if spec.dns is not None else None,
        canary_weight=(FULL if to == "standby" else 0) if spec.ingress is not None else None,
    )
