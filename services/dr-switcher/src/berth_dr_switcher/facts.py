"""Turn the aggregate's domain events into facts (envelopes stored with the write)."""

from __future__ import annotations

from typing import Any

from berth_common.events import Envelope, registry
from berth_schema import dr as m
from pydantic import BaseModel

from .domain import events as d
from .state import SOURCE, subject


def fact(event: d.DomainEvent, *, group: str) -> tuple[BaseModel, str]:
    """(payload, envelope subject). Probe facts get a per-site subject so they never fold into
    (and fail) a gateway operation that is waiting on the group."""
    drill = {"drill": event.drill_id is not None, "drill_id": event.drill_id}
    if isinstance(event, d.ProbeFailed):
        return (
            m.ProbeFailed(
                group=group,
                site=event.site,
                site_name=event.site_name,
                failures=event.failures,
                threshold=event.threshold,
                detail=event.detail,
                **drill,
            ),
            f"{subject(group)}/sites/{event.site}",
        )
    if isinstance(event, d.ProbeRecovered):
        return (
            m.ProbeRecovered(
                group=group,
                site=event.site,
                site_name=event.site_name,
                successes=event.successes,
                threshold=event.threshold,
                **drill,
            ),
            f"{subject(group)}/sites/{event.site}",
        )
    if isinstance(event, d.StateChanged):
        return (
            m.GroupStateChanged(
                group=group,
                from_state=event.from_state,
                to_state=event.to_state,
                active=event.active,
                reason=event.reason,
                **drill,
            ),
            subject(group),
        )
    common: dict[str, Any] = {
        "group": group,
        "switch_id": event.switch_id,
        "kind": event.kind,
        "from_site": event.from_site,
        "to_site": event.to_site,
        "reason": event.reason,
        "requested_by": event.requested_by,
        "automatic": event.automatic,
        **drill,
    }
    if isinstance(event, d.SwitchStarted):
        return m.SwitchStarted(forced=event.forced, **common), subject(group)
    if isinstance(event, d.Switched):
        ms = (event.at - event.started_at).total_seconds() * 1000
        return (
            m.Switched(started_at=event.started_at, duration_ms=round(ms, 1), detail=event.detail, **common),
            subject(group),
        )
    return m.SwitchFailed(refused=event.refused, **common), subject(group)


def envelopes(events: list[d.DomainEvent], *, tenant: str, group: str, cause: Envelope | None) -> list[Envelope]:
    out = []
    for e in events:
        payload, subj = fact(e, group=group)
        attrs = cause.caused(subject=subj) if cause is not None else {"tenant": tenant, "subject": subj}
        attrs["tenant"] = tenant
        out.append(registry.envelope(payload, source=SOURCE, **attrs))
    return out


def envelope(payload: BaseModel, *, tenant: str, group: str, cause: Envelope | None) -> Envelope:
    attrs = cause.caused(subject=subject(group)) if cause is not None else {"subject": subject(group)}
    attrs["tenant"] = tenant
    return registry.envelope(payload, source=SOURCE, **attrs)
