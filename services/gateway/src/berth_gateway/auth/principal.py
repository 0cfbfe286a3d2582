"""Who is calling, and what roles they hold in which tenant (and namespace)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ROLE_RANK = {"viewer": 1, "developer": 2, "tenant-admin": 3, "platform-admin": 4}
ALL_TENANTS = "*"
Via = Literal["token", "oidc", "admin", "chat"]


@dataclass(frozen=True, slots=True)
class Binding:
    tenant: str  # ALL_TENANTS for platform-admin
    role: str
    namespace: str = ""  # "" = the whole tenant


@dataclass(frozen=True, slots=True)
class Principal:
    user: str
    via: Via
    key: str  # rate-limit bucket key: token id, OIDC subject, "admin"
    bindings: tuple[Binding, ...] = field(default=())

    @property
    def is_platform_admin(self) -> bool:
        return any(b.role == "platform-admin" for b in self.bindings)

    def tenants(self) -> list[str]:
        return sorted({b.tenant for b in self.bindings if b.tenant != ALL_TENANTS})

    def rank_in(self, tenant: str, namespace: str = "") -> int:
        """The highest role rank the principal holds for ``tenant`` (and ``namespace``)."""
        best = 0
        for b in self.bindings:
            if b.role == "platform-admin":
                return ROLE_RANK["platform-admin"]
            if b.tenant != tenant:
                continue
            if b.namespace and b.namespace != namespace:
                continue
            best = max(best, ROLE_RANK.get(b.role, 0))
        return best

    def can(self, role: str, tenant: str, namespace: str = "") -> bool:
        return self.rank_in(tenant, namespace) >= ROLE_RANK[role]
