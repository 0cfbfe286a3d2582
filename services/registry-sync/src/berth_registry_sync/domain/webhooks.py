"""Registry notifications: distribution's envelope (events.v1+json / events.v2+json) and Harbor's webhook."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from yarl import URL

EVENTS_V1 = "application/vnd.docker.distribution.events.v1+json"
EVENTS_V2 = "application/vnd.docker.distribution.events.v2+json"
ACCEPTED_TYPES = frozenset({EVENTS_V1, EVENTS_V2, "application/json"})
MANIFEST_TYPES = frozenset(
    {
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    }
)


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
    if not isinstance(body, dict):
        raise BadPayload("body: must be a JSON object")
    if "events" in body:
        return _distribution(body["events"])
    if "type" in body and "event_data" in body:
        return _harbor(body)
    raise BadPayload("body: expected 'events' (distribution) or 'type' + 'event_data' (Harbor)")


def _distribution(events: Any) -> list[Pushed]:
    if not isinstance(events, list):
        raise BadPayload("events: must be a list")
    out: list[Pushed] = []
    for i, ev in enumerate(events):
        if not isinstance(ev, dict):
            raise BadPayload(f"events[{i}]: must be an object")
        action = ev.get("action")
        if not isinstance(action, str):
            raise BadPayload(f"events[{i}].action: missing")
        target = ev.get("target")
        if not isinstance(target, dict):
            raise BadPayload(f"events[{i}].target: must be an object")
        repo = target.get("repository")
        if not isinstance(repo, str) or not repo:
            raise BadPayload(f"events[{i}].target.repository: missing")
        tag = target.get("tag")
        media = target.get("mediaType")
        if action not in ("push", "delete") or not isinstance(tag, str) or not tag:
            continue
        if action == "push" and media not in MANIFEST_TYPES:
            continue
        host = None
        req = ev.get("request")
        if isinstance(target.get("url"), str):
            u = URL(target["url"])
            host = f"{u.host}:{u.port}" if u.port else u.host
        elif isinstance(req, dict) and isinstance(req.get("host"), str):
            host = req["host"]
        out.append(
            Pushed(
                repository=repo, tag=tag, digest=target.get("digest"), host=host, event_id=ev.get("id"), action=action
            )
        )
    return out


def _harbor(body: dict[str, Any]) -> list[Pushed]:
    kind = body.get("type")
    if kind not in ("PUSH_ARTIFACT", "pushImage", "DELETE_ARTIFACT", "deleteImage"):
        return []
    data = body["event_data"]
    if not isinstance(data, dict):
        raise BadPayload("event_data: must be an object")
    repo_doc = data.get("repository")
    if not isinstance(repo_doc, dict) or not isinstance(repo_doc.get("repo_full_name"), str):
        raise BadPayload("event_data.repository.repo_full_name: missing")
    repo = repo_doc["repo_full_name"]
    out: list[Pushed] = []
    for i, res in enumerate(data.get("resources") or []):
        if not isinstance(res, dict) or not isinstance(res.get("tag"), str):
            raise BadPayload(f"event_data.resources[{i}].tag: missing")
        url = res.get("resource_url") if isinstance(res.get("resource_url"), str) else None
        out.append(
            Pushed(
                repository=repo,
                tag=res["tag"],
                digest=res.get("digest"),
                host=url.split("/", 1)[0] if url else None,
                action="delete" if "DELETE" in kind.upper() else "push",
            )
        )
    return out
