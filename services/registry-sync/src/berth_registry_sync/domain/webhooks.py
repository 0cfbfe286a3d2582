"""Registry notifications, as registry-sync reads them: the payload models live in the schema
(``berth_schema.hooks.registry``, which the gateway validates /hooks/registry against); this
module picks the tagged manifest pushes and deletes out of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from berth_schema.hooks import (
    ACCEPTED_TYPES,
    EVENTS_V1,
    EVENTS_V2,
    DistributionNotification,
    HarborNotification,
    HookPayloadInvalid,
    parse_registry_notification,
)
from yarl import URL

MANIFEST_TYPES = frozenset(
    {
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    }
)

__all__ = ["ACCEPTED_TYPES", "EVENTS_V1", "EVENTS_V2", "BadPayload", "Pushed", "parse_notification"]


class BadPayload(ValueError):
    """The webhook body is not a notification we understand; the message names the bad field."""


@dataclass(frozen=True, kw_only=True)
class Pushed:
    repository: str
    tag: str
    digest: str | None
    host: str | None  # host:port of the registry that sent it, when the payload says
    event_id: str | None = None
    action: str = "push"


def parse_notification(body: Any) -> list[Pushed]:
    """Tagged manifest pushes (and deletes) from a notification body; blob and pull events are ignored."""
    try:
        note = parse_registry_notification(body)
    except HookPayloadInvalid as exc:
        raise BadPayload(str(exc)) from None
    if isinstance(note, DistributionNotification):
        return _distribution(note)
    return _harbor(note)


def _distribution(note: DistributionNotification) -> list[Pushed]:
    out: list[Pushed] = []
    for ev in note.events:
        target = ev.target
        if ev.action not in ("push", "delete") or not target.tag:
            continue
        if ev.action == "push" and target.mediaType not in MANIFEST_TYPES:
            continue
        host = None
        if target.url is not None:
            u = URL(target.url)
            host = f"{u.host}:{u.port}" if u.port else u.host
        elif ev.request is not None:
            host = ev.request.host
        out.append(
            Pushed(
                repository=target.repository,
                tag=target.tag,
                digest=target.digest,
                host=host,
                event_id=ev.id,
                action=ev.action,
            )
        )
    return out


def _harbor(note: HarborNotification) -> list[Pushed]:
    if note.action is None or note.artifact is None:
        return []
    repo = note.artifact.repository.repo_full_name
    return [
        Pushed(
            repository=repo,
            tag=res.tag,
            digest=res.digest,
            host=res.resource_url.split("/", 1)[0] if res.resource_url else None,
            action=note.action,
        )
        for res in note.artifact.resources or []
    ]
