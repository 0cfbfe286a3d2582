"""The tenant node limit: cluster-manager keeps the tenant's limit and count, node-manager asks it
(``check-node-quota``) before a user action adds nodes, and refuses the action when it says no."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from berth_common.bus import QueryError, Transient
from berth_schema.cluster import CheckNodeQuota, NodeQuota

Ask = Callable[[CheckNodeQuota], Awaitable[NodeQuota]]


class QuotaRefused(ValueError):
    """Adding the nodes would exceed the tenant's node limit (the command fails with this reason)."""


class NodeQuotaCheck(Protocol):
    async def ensure(self, *, tenant: str, cluster: str, adding: int, field: str) -> None:
        """Return when ``adding`` more nodes are allowed; raise QuotaRefused naming ``field`` when not,
        Transient when the answer cannot be had right now."""


class AskClusterManager:
    """The real check: cluster-manager's ``check-node-quota`` query."""

    def __init__(self, ask: Ask) -> None:
        self._ask = ask

    async def ensure(self, *, tenant: str, cluster: str, adding: int, field: str) -> None:
        if adding <= 0:
            return
        try:
            verdict = await self._ask(CheckNodeQuota(tenant=tenant, cluster=cluster, adding=adding))
        except QueryError as exc:
            if exc.code >= 500:
                raise Transient(f"node quota: cluster-manager: {exc.detail}") from None
            raise QuotaRefused(f"{field}: the tenant node limit cannot be checked: {exc.detail}") from None
        if not verdict.allowed:
            reason = verdict.reason or f"the tenant node limit is {verdict.limit} and {verdict.used} are in use"
            raise QuotaRefused(f"{field}: adding {adding} node(s) is refused: {reason}")


class NoNodeLimit:
    """Every addition allowed: a node-manager without a cluster-manager (tests, a bare install)."""

    async def ensure(self, *, tenant: str, cluster: str, adding: int, field: str) -> None:
        return None
