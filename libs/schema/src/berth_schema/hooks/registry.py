"""Registry notifications: distribution's envelope (``events.v1+json`` / ``events.v2+json``,
https://distribution.github.io/distribution/about/notifications/) and Harbor's webhook
(``type`` + ``event_data``). Every event must name its action and repository; only tagged
manifest pushes and deletes matter to Berth, the rest is read and ignored by registry-sync."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import HookPayloadInvalid, first_error

EVENTS_V1 = "application/vnd.docker.distribution.events.v1+json"
EVENTS_V2 = "application/vnd.docker.distribution.events.v2+json"
ACCEPTED_TYPES = frozenset({EVENTS_V1, EVENTS_V2, "application/json"})
HARBOR_PUSH = frozenset({"PUSH_ARTIFACT", "pushImage"})
HARBOR_DELETE = frozenset({"DELETE_ARTIFACT", "deleteImage"})


class _Open(BaseModel):
    model_config = ConfigDict(extra="ignore")


class DistributionTarget(_Open):
    repository: str = Field(min_length=1)
    mediaType: str | None = None
    digest: str | None = None
    tag: str | None = None
    url: str | None = None
    size: int | None = None


class DistributionRequest(_Open):
    id: str | None = None
    addr: str | None = None
    host: str | None = None
    method: str | None = None
    useragent: str | None = None


class DistributionEvent(_Open):
    id: str | None = None
    timestamp: str | None = None
    action: str
    target: DistributionTarget
    request: DistributionRequest | None = None


class DistributionNotification(_Open):
    events: list[DistributionEvent]


class HarborResource(_Open):
    tag: str
    digest: str | None = None
    resource_url: str | None = None


class HarborRepository(_Open):
    repo_full_name: str = Field(min_length=1)
    name: str | None = None
    namespace: str | None = None


class HarborArtifactData(_Open):
    repository: HarborRepository
    resources: list[HarborResource] | None = None


class HarborNotification(_Open):
    """A Harbor webhook; ``artifact`` is set for artifact pushes and deletes, other event
    types (scans, quotas, replication) keep their ``event_data`` unread."""

    type: str = Field(min_length=1)
    occur_at: int | None = None
    operator: str | None = None
    event_data: dict[str, Any]
    artifact: HarborArtifactData | None = Field(default=None, exclude=True)

    @property
    def action(self) -> Literal["push", "delete"] | None:
        if self.type in HARBOR_PUSH:
            return "push"
        if self.type in HARBOR_DELETE:
            return "delete"
        return None


RegistryNotification = DistributionNotification | HarborNotification


def parse_registry_notification(body: Any) -> RegistryNotification:
    """Validate a decoded JSON body; HookPayloadInvalid names the bad field
    (``events[0].target.repository``)."""
    if not isinstance(body, dict):
        raise HookPayloadInvalid("body", "must be a JSON object")
    try:
        if "events" in body:
            return DistributionNotification.model_validate(body)
        if "type" in body and "event_data" in body:
            harbor = HarborNotification.model_validate(body)
            if harbor.action is None:
                return harbor
            data = HarborArtifactData.model_validate(harbor.event_data)
            return harbor.model_copy(update={"artifact": data})
    except ValidationError as exc:
        raise _prefixed(first_error(exc, style="indexed"), body) from None
    raise HookPayloadInvalid("body", "expected 'events' (distribution) or 'type' + 'event_data' (Harbor)")


def _prefixed(err: HookPayloadInvalid, body: dict[str, Any]) -> HookPayloadInvalid:
    # errors inside Harbor's event_data are validated on their own: put the prefix back
    if "events" not in body and not err.field.startswith(("event_data", "type", "body")):
        return HookPayloadInvalid(f"event_data.{err.field}", err.message)
    return err
