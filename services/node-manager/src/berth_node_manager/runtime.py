"""What the handlers share: the wired dependencies (API clients per cluster, the clock, the node
quota check), and writing facts with a record."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from berth_common.bus import Context, Transient
from berth_common.events import Envelope, new_id, registry
from berth_common.store import AlreadyExists, Store
from berth_schema.node import CommandFailed
from pydantic import BaseModel

from .app import app
from .domain.clock import Clock, SystemClock
from .kube.connect import Connections
from .kube.rawapi import KubeError
from .operations import ClusterOps
from .quota import AskClusterManager, NodeQuotaCheck
from .state import OPERATIONS, Unknown, load_cluster

log = logging.getLogger(__name__)
SOURCE = "/berth/node-manager"


@dataclass
class Wiring:
    """The dependencies the handlers and loops use; ``bootstrap`` sets them (defaults: the real ones)."""

    clock: Clock = field(default_factory=SystemClock)
    connections: Connections = field(default_factory=Connections)
    quota: NodeQuotaCheck = field(default_factory=lambda: AskClusterManager(app.bus.ask))


wiring = Wiring()


async def ops_for(store: Store, cluster: str, *, tenant: str | None = None) -> ClusterOps:
    data = await load_cluster(store, cluster, tenant=tenant)
    api = await wiring.connections.client(cluster, data["kubeconfig"])
    return ClusterOps(
        api, cluster=cluster, node_cidr=data["node_cidr"], simulated=data["simulated"], clock=wiring.clock
    )


def envelope(payload: BaseModel, *, subject: str, ctx: Context | None = None, tenant: str = "") -> Envelope:
    attrs: dict[str, Any] = ctx.caused(subject=subject) if ctx is not None else {"tenant": tenant, "subject": subject}
    return registry.envelope(payload, source=SOURCE, **attrs)


async def record(
    key: str, kind: str, data: dict[str, Any], events: Sequence[Envelope], *, caused_by: str | None
) -> None:
    """Store the outcome of an operation together with the facts it caused (outbox), once per key."""
    try:
        await app.store.collection(OPERATIONS).create(
            key, {"kind": kind, **data}, events=list(events), caused_by=caused_by
        )
    except AlreadyExists:
        log.info("operation %s already recorded", key)
    app.wake_relay()


def operation_key() -> str:
    return f"op-{new_id()}"


H = TypeVar("H", bound=BaseModel)


def guarded(kind: str) -> Callable[[Callable[[H, Context], Awaitable[None]]], Callable[[H, Context], Awaitable[None]]]:
    """Turn bad input, unknown things and 4xx answers into a ``command-failed`` fact (the caller's
    operation fails with the reason); server-side trouble into a retry."""

    def deco(fn: Callable[[H, Context], Awaitable[None]]) -> Callable[[H, Context], Awaitable[None]]:
        @functools.wraps(fn)
        async def run(cmd: H, ctx: Context) -> None:
            try:
                await fn(cmd, ctx)
            except (Unknown, ValueError) as exc:
                await _failed(cmd, ctx, kind, str(exc))
            except KubeError as exc:
                if exc.status >= 500 or exc.status in (409, 429):
                    raise Transient(f"{kind}: {exc}") from None
                await _failed(cmd, ctx, kind, str(exc))
            except (OSError, TimeoutError) as exc:
                raise Transient(f"{kind}: {type(exc).__name__}: {exc}") from None

        return run

    return deco


async def _failed(cmd: BaseModel, ctx: Context, kind: str, reason: str) -> None:
    cluster = str(getattr(cmd, "cluster", ""))
    tenant = str(getattr(cmd, "tenant", ""))
    log.warning("%s failed: %s", kind, reason, extra={"cluster": cluster})
    fact = CommandFailed(cluster=cluster, tenant=tenant, command=kind, reason=reason)
    await record(
        f"failed-{ctx.envelope.id}",
        kind,
        {"cluster": cluster, "failed": reason},
        [envelope(fact, subject=f"clusters/{cluster}", ctx=ctx)],
        caused_by=ctx.envelope.id,
    )
