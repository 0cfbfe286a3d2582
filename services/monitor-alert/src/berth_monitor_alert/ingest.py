"""Turn one Alertmanager webhook into alert history, facts and pending notifications.

Delivery itself happens in the dispatcher; here every state change is one store write that
carries its facts (outbox), so a crash or a redelivered command repeats nothing.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from berth_common.events import Envelope, registry
from berth_common.store import AlreadyExists, Store
from berth_common.store.unit_of_work import update
from berth_schema.alert import AlertFiring, AlertResolved, AlertSilenced
from berth_schema.alert.channels import Channel

from . import state
from .domain.channels import limit as channel_limit
from .domain.payload import Alert, WebhookPayload, dedupe_key
from .domain.routing import route
from .domain.silences import silenced_by
from .domain.splitting import NUMBER_RESERVE, numbered, split_message
from .domain.templates import TemplateInvalid, render

SEEN_HISTORY = 32


def attrs(env: Envelope, tenant: str, subject: str) -> dict[str, Any]:
    return {**env.caused(), "tenant": tenant, "subject": subject, "source": state.SOURCE}


def _fact(alert: Alert, group_key: str) -> dict[str, Any]:
    return {
        "fingerprint": alert.fingerprint,
        "alertname": alert.name,
        "labels": alert.labels,
        "annotations": alert.annotations,
        "starts_at": alert.startsAt,
        "ends_at": alert.endsAt,
        "group_key": group_key,
    }


async def record_alert(
    store: Store, *, tenant: str, payload: WebhookPayload, alert: Alert, env: Envelope, now: datetime, silence: Any
) -> bool:
    """Store the alert; True when this command is the first to bring this (group, alert, status)."""
    dkey = dedupe_key(payload.groupKey, alert)
    subject = f"alerts/{alert.fingerprint}"

    def mutate(data: dict[str, Any]) -> None:
        seen: dict[str, str] = data.setdefault("seen", {})
        if dkey in seen:
            return  # a duplicate (the HA peer's copy, or a repeat): change nothing
        seen[dkey] = env.id
        while len(seen) > SEEN_HISTORY:
            seen.pop(next(iter(seen)))
        data.update(
            tenant=tenant,
            fingerprint=alert.fingerprint,
            alertname=alert.name,
            labels=alert.labels,
            annotations=alert.annotations,
            status=alert.status,
            starts_at=alert.startsAt.isoformat(),
            ends_at=alert.endsAt.isoformat() if alert.endsAt else None,
            group_key=payload.groupKey,
            generator_url=alert.generatorURL,
            last_seen=now.isoformat(),
            silenced_by=silence.id if silence else None,
        )
        data.setdefault("first_seen", now.isoformat())
        if alert.status == "firing" and data.get("occurrence") != alert.startsAt.isoformat():
            # A new occurrence starts unacknowledged and unescalated.
            data.update(
                occurrence=alert.startsAt.isoformat(),
                occurrence_seen=now.isoformat(),
                acked_by=None,
                acked_at=None,
                notified={},
                escalated={},
                escalation_steps={},
            )

    def events_for(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[Envelope]:
        if after.get("seen", {}).get(dkey) != env.id or (before and dkey in before.get("seen", {})):
            return []
        a = attrs(env, tenant, subject)
        model = AlertFiring if alert.status == "firing" else AlertResolved
        out = [registry.envelope(model(**_fact(alert, payload.groupKey)), **a)]
        if silence is not None:
            out.append(
                registry.envelope(
                    AlertSilenced(
                        silence_id=silence.id,
                        action="suppressed",
                        matchers=[str(m) for m in silence.matchers],
                        starts_at=silence.starts_at,
                        ends_at=silence.ends_at,
                        created_by=silence.created_by,
                        fingerprint=alert.fingerprint,
                    ),
                    **a,
                )
            )
        return out

    rec = await update(
        store.collection(state.ALERTS),
        state.key(tenant, alert.fingerprint),
        mutate,
        caused_by=None,
        events_for=events_for,
        initial={},
    )
    return bool(rec.data.get("seen", {}).get(dkey) == env.id)


def build_parts(channel: Channel, alerts: Sequence[Alert], payload: WebhookPayload | None) -> list[dict[str, Any]]:
    """Rendered, split message parts for a channel (raises TemplateInvalid)."""
    rendered = render(
        channel,
        alerts,
        group_labels=payload.groupLabels if payload else None,
        common_labels=payload.commonLabels if payload else None,
        common_annotations=payload.commonAnnotations if payload else None,
        external_url=payload.externalURL if payload else "",
    )
    limit, unit = channel_limit(channel)
    if channel.phone:
        # one message or call per recipient, never split: SMS and speech stay short
        text = rendered.text[:limit]
        return [
            {"title": rendered.title, "text": text, "to": to, "params": rendered.params} for to in channel.recipients
        ]
    # Room for the JSON envelope, the title and mentions around the text.
    overhead = 512 + len(rendered.title.encode()) if unit == "bytes" else 64
    texts = numbered(split_message(rendered.text, limit - overhead, unit=unit, reserve=NUMBER_RESERVE))
    return [{"title": rendered.title, "text": t} for t in texts]


async def queue_notification(
    store: Store,
    *,
    tenant: str,
    channel_name: str,
    channel: Channel | None,
    alerts: Sequence[Alert],
    dedupe_keys: Sequence[str],
    payload: WebhookPayload | None,
    now: datetime,
    escalation: bool = False,
) -> str:
    nid = state.notification_id(tenant, channel_name, dedupe_keys, escalation=escalation)
    doc: dict[str, Any] = {
        "id": nid,
        "tenant": tenant,
        "channel": channel_name,
        "kind": channel.kind if channel else "unknown",
        "fingerprints": [a.fingerprint for a in alerts],
        "escalation": escalation,
        "state": "pending",
        "attempts": 0,
        "sent_parts": 0,
        "next_at": now.timestamp(),
        "created_at": now.isoformat(),
        "last_error": None,
        "parts": [],
    }
    if channel is None:
        doc["last_error"] = f"channel {channel_name!r} does not exist"
    else:
        try:
            doc["parts"] = build_parts(channel, alerts, payload)
        except TemplateInvalid as exc:
            doc["last_error"] = str(exc)
    if doc["last_error"]:
        doc["state"] = "failed"  # the dispatcher dead-letters it at once (no retry can help)
    with contextlib.suppress(AlreadyExists):  # queued already by an earlier delivery of this command
        await store.collection(state.NOTIFICATIONS).create(nid, doc)
    return nid


async def ingest(
    store: Store, *, tenant: str, payload: WebhookPayload, env: Envelope, now: datetime
) -> tuple[list[tuple[str, str]], list[Alert]]:
    """Record every alert of the webhook and queue notifications for the new ones.
    Returns (channel, notification id) pairs and the alerts this webhook was first to bring."""
    chans = await state.channels(store, tenant)
    routes = await state.routes(store, tenant)
    active = [s for s in await state.silences(store, tenant) if s.active(now)]
    by_channel: dict[str, list[Alert]] = defaultdict(list)
    fresh: list[Alert] = []
    for alert in payload.alerts:
        silence = silenced_by(active, alert.labels, now)
        new = await record_alert(store, tenant=tenant, payload=payload, alert=alert, env=env, now=now, silence=silence)
        if new:
            fresh.append(alert)
        if not new or silence is not None:
            continue
        for name in route(routes, alert.labels):
            by_channel[name].append(alert)
    ids: list[tuple[str, str]] = []
    for name, alerts in by_channel.items():
        keys = [dedupe_key(payload.groupKey, a) for a in alerts]
        ids.append(
            (
                name,
                await queue_notification(
                    store,
                    tenant=tenant,
                    channel_name=name,
                    channel=chans.get(name),
                    alerts=alerts,
                    dedupe_keys=keys,
                    payload=payload,
                    now=now,
                ),
            )
        )
    return ids, fresh
