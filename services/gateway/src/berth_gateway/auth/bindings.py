"""Role bindings (user, tenant, role, namespace) and tenants, in the gateway's store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from berth_common.store import AlreadyExists, Store

from .principal import ALL_TENANTS, Binding

BINDINGS = "bindings"
TENANTS = "tenants"


GROUP_PREFIX = "group:"  # a group's bindings are keyed like a user named group:<name>


def binding_key(tenant: str, user: str, namespace: str) -> str:
    return f"{tenant}|{user}|{namespace or '*'}"


class Directory:
    def __init__(self, store: Store) -> None:
        self.bindings = store.collection(BINDINGS)
        self.tenants = store.collection(TENANTS)

    async def bindings_of(self, user: str, groups: tuple[str, ...] = ()) -> tuple[Binding, ...]:
        """The user's own bindings and those of the (IdP) groups they are in."""
        recs = list(await self.bindings.list(where={"user": user}, limit=1000))
        for group in groups:
            recs += await self.bindings.list(where={"group": group}, limit=1000)
        return tuple(Binding(r.data["tenant"], r.data["role"], r.data.get("namespace", "")) for r in recs)

    async def bind(
        self, *, tenant: str, user: str = "", group: str = "", role: str, namespace: str = ""
    ) -> dict[str, Any]:
        """Bind exactly one of ``user`` or ``group``."""
        if bool(user) == bool(group):
            raise ValueError("bind exactly one of user or group")
        key = binding_key(tenant, user or GROUP_PREFIX + group, namespace)
        data = {"tenant": tenant, "user": user, "group": group, "role": role, "namespace": namespace}
        rec = await self.bindings.get(key)
        if rec is None:
            await self.bindings.create(key, data)
        else:
            await self.bindings.replace(key, data, expected_version=rec.version)
        return data

    async def unbind(self, *, tenant: str, user: str, namespace: str = "") -> bool:
        key = binding_key(tenant, user, namespace)
        if await self.bindings.get(key) is None:
            return False
        await self.bindings.delete(key)
        return True

    async def members(self, tenant: str) -> list[dict[str, Any]]:
        return [r.data for r in await self.bindings.list(where={"tenant": tenant}, limit=1000)]

    async def make_platform_admin(self, user: str) -> None:
        await self.bind(tenant=ALL_TENANTS, user=user, role="platform-admin")

    async def create_tenant(self, name: str, display_name: str, by: str) -> dict[str, Any]:
        data = {"name": name, "display_name": display_name, "created_at": datetime.now(UTC).isoformat(), "by": by}
        try:
            await self.tenants.create(name, data)
        except AlreadyExists:
            raise
        return data

    async def tenant(self, name: str) -> dict[str, Any] | None:
        rec = await self.tenants.get(name)
        return rec.data if rec else None

    async def list_tenants(self, *, after: str | None, limit: int) -> list[dict[str, Any]]:
        return [r.data for r in await self.tenants.list(after=after, limit=limit)]
