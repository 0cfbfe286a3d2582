"""Credentials a person asks for carry their own identity and at most their own rights: the
gateway sets ``user`` to the caller and checks the ``role`` asked for (by default the highest the
caller holds in the whole tenant) against the caller's bindings where it is asked for."""

from __future__ import annotations

from typing import Any

from .auth.principal import ROLE_RANK, Principal
from .problems import ApiError


def highest_role(p: Principal, tenant: str) -> str | None:
    """The caller's highest role over the whole tenant (not one granted in a namespace only)."""
    rank = p.rank_in(tenant)
    return next((role for role, r in ROLE_RANK.items() if r == rank), None)


def granted(p: Principal, tenant: str, fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` with ``user`` the caller and ``role`` one the caller holds where it applies (403 otherwise)."""
    role = fields.get("role") or highest_role(p, tenant)
    if role is None:
        raise ApiError(
            422,
            "you hold roles only in some namespaces: name the role and the namespaces",
            errors=[{"field": "role", "message": "required"}],
        )
    namespaces = fields.get("namespaces") or []
    if isinstance(role, str) and role in ROLE_RANK and isinstance(namespaces, list):
        # unknown roles and malformed namespaces are left to the schema's 422
        for ns in [n for n in namespaces if isinstance(n, str)] or [""]:
            if not p.can(role, tenant, ns):
                where = f"namespace {ns} of tenant {tenant}" if ns else f"the whole tenant {tenant}"
                raise ApiError(
                    403, f"{p.user} does not hold {role} in {where}; a credential carries at most your rights"
                )
    return {**fields, "role": role, "user": p.user}
