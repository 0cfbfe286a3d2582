"""Collections monitor-alert owns, their keys, and typed loaders."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from berth_common.sealing import SealerSlot
from berth_common.store import Collection, Store
from berth_schema.alert.channels import Channel
from berth_schema.alert.routing import Route
from berth_schema.alert.scaling import ScalingPolicy
from pydantic import ValidationError

from .domain.silences import Silence

ALERTS = "alerts"
CHANNELS = "channels"
ROUTES = "routes"
SILENCES = "silences"
NOTIFICATIONS = "notifications"
DEAD_LETTERS = "dead_letters"
SCALING = "scaling_policies"
COLLECTIONS = [ALERTS, CHANNELS, ROUTES, SILENCES, NOTIFICATIONS, DEAD_LETTERS, SCALING]

SOURCE = "/berth/monitor-alert"
SEALER = SealerSlot("monitor-alert")  # channel secrets (robot signing keys, SMTP passwords) at rest
PAGE = 500


def key(tenant: str, name: str) -> str:
    return f"{tenant}:{name}"


def notification_id(tenant: str, channel: str, dedupe_keys: Iterable[str], *, escalation: bool) -> str:
    h = hashlib.sha256("\x1f".join([tenant, channel, str(escalation), *sorted(dedupe_keys)]).encode())
    return h.hexdigest()[:32]


async def list_all(col: Collection, *, where: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        page = await col.list(where=where, after=after, limit=PAGE)
        out.extend(r.data for r in page)
        if len(page) < PAGE:
            return out
        after = page[-1].key


def _valid(model: Any, docs: list[dict[str, Any]]) -> list[Any]:
    out = []
    for d in docs:
        try:
            out.append(model.model_validate(d))
        except ValidationError:
            continue  # written by an older version with other rules; skip rather than fail delivery
    return out


def stored_channel(ch: Channel) -> dict[str, Any]:
    data = ch.stored()
    if data.get("secret") is not None:
        data["secret"] = SEALER.get().seal(str(data["secret"]))
    return data


def _opened(data: dict[str, Any]) -> dict[str, Any]:
    secret = data.get("secret")
    return {**data, "secret": SEALER.get().unseal(secret)} if isinstance(secret, str) else data


async def channels(store: Store, tenant: str) -> dict[str, Channel]:
    docs = await list_all(store.collection(CHANNELS), where={"tenant": tenant})
    found: list[Channel] = _valid(Channel, [_opened(d) for d in docs])
    return {c.name: c for c in found}


async def channel(store: Store, tenant: str, name: str) -> Channel | None:
    rec = await store.collection(CHANNELS).get(key(tenant, name))
    return Channel.model_validate(_opened(rec.data)) if rec else None


async def routes(store: Store, tenant: str) -> list[Route]:
    return _valid(Route, await list_all(store.collection(ROUTES), where={"tenant": tenant}))


async def silences(store: Store, tenant: str) -> list[Silence]:
    return _valid(Silence, await list_all(store.collection(SILENCES), where={"tenant": tenant}))


async def policies(store: Store, tenant: str | None = None) -> list[tuple[ScalingPolicy, dict[str, Any]]]:
    docs = await list_all(store.collection(SCALING), where={"tenant": tenant} if tenant else None)
    out = []
    for d in docs:
        try:
            out.append((ScalingPolicy.model_validate(d["policy"]), d))
        except (ValidationError, KeyError):
            continue
    return out
