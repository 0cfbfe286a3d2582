"""Command handlers, queries and background loops of monitor-alert, declared on the app."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from berth_common.bus import Context, Poison
from berth_common.events import Envelope, new_id, registry
from berth_common.runtime import ServiceApp
from berth_common.store import NotFound, Store
from berth_common.store.unit_of_work import update
from berth_schema.alert import (
    AckAlert,
    AlertAcknowledged,
    AlertSilenced,
    DeleteChannel,
    DeleteRoute,
    DeleteScalingPolicy,
    IngestCallStatus,
    IngestWebhook,
    PutChannel,
    PutRoute,
    PutScalingPolicy,
    SilenceAlerts,
)
from berth_schema.alert.callbacks import callback_query, valid_twilio_signature
from berth_schema.alert.channels import Channel
from pydantic import ValidationError

from . import ingest as ingest_mod
from . import scaler, state
from .app import app
from .config import deps
from .dispatch import Dispatcher
from .domain.escalation import due_escalations, due_route_steps
from .domain.payload import Alert, PayloadInvalid, parse_payload
from .domain.silences import Silence
from .domain.templates import check_template

log = logging.getLogger(__name__)
_dispatcher: Dispatcher | None = None


def dispatcher() -> Dispatcher:
    if _dispatcher is None:
        raise RuntimeError("monitor-alert is not started")
    return _dispatcher


def _attrs(env: Envelope, tenant: str, subject: str) -> dict[str, Any]:
    return ingest_mod.attrs(env, tenant, subject)


def _invalid(what: str, exc: ValidationError | ValueError) -> Poison:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or what
        return Poison(f"invalid {what}: {loc}: {err['msg']}")
    return Poison(f"invalid {what}: {exc}")


# --- lifecycle ----------------------------------------------------------------------------
@app.on_startup
async def _start(a: ServiceApp) -> None:
    global _dispatcher
    assert a.settings is not None
    state.SEALER.open(a.settings.data_dir)
    _dispatcher = Dispatcher(a.store, deps, wake_relay=a.wake_relay)


@app.on_shutdown
async def _stop(a: ServiceApp) -> None:
    if _dispatcher is not None:
        await _dispatcher.stop()
    await deps.sender.close()


@app.background
async def dispatch_loop(a: ServiceApp) -> None:
    await dispatcher().run()


@app.background
async def escalation_loop(a: ServiceApp) -> None:
    while True:
        await escalate_once(a.store)
        await asyncio.sleep(deps.settings.escalation_sweep_seconds)


@app.background
async def scaling_loop(a: ServiceApp) -> None:
    while True:
        if deps.prometheus is not None:
            issued = await scaler.evaluate_metrics(a.store, deps.prometheus, now=deps.clock.now())
            if issued:
                a.wake_relay()
        await asyncio.sleep(deps.settings.scaling_sweep_seconds)


# --- commands -----------------------------------------------------------------------------
@app.handler(IngestWebhook, concurrency=8)
async def ingest_webhook(cmd: IngestWebhook, ctx: Context) -> None:
    try:
        payload = parse_payload(cmd.payload)
    except PayloadInvalid as exc:
        raise Poison(f"invalid Alertmanager payload: {exc}") from None
    now = deps.clock.now()
    queued, fresh = await ingest_mod.ingest(app.store, tenant=cmd.tenant, payload=payload, env=ctx.envelope, now=now)
    for channel, nid in queued:
        dispatcher().submit(cmd.tenant, channel, [nid])
    for alert in fresh:  # an HA peer's copy does not trigger scaling twice
        await scaler.on_alert(app.store, cmd.tenant, alert, now=now, cause=ctx.envelope)
    app.wake_relay()


async def _acknowledge(tenant: str, fingerprint: str, *, by: str, comment: str, env: Envelope) -> None:
    """Acknowledge one alert (once; a later ack changes nothing); raises NotFound."""
    now = deps.clock.now()

    def mutate(data: dict[str, Any]) -> None:
        if not data.get("acked_at"):
            data.update(acked_by=by, acked_at=now.isoformat(), ack_comment=comment)

    def events(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[Envelope]:
        if before is None or before.get("acked_at") or not after.get("acked_at"):
            return []
        fact = AlertAcknowledged(fingerprint=fingerprint, alertname=after.get("alertname", ""), by=by, comment=comment)
        return [registry.envelope(fact, **_attrs(env, tenant, f"alerts/{fingerprint}"))]

    await update(
        app.store.collection(state.ALERTS),
        state.key(tenant, fingerprint),
        mutate,
        caused_by=env.id,
        events_for=events,
    )


@app.handler(AckAlert)
async def ack(cmd: AckAlert, ctx: Context) -> None:
    try:
        await _acknowledge(cmd.tenant, cmd.fingerprint, by=cmd.by, comment=cmd.comment, env=ctx.envelope)
    except NotFound:
        raise Poison(f"fingerprint: no alert {cmd.fingerprint!r} in tenant {cmd.tenant!r}") from None
    app.wake_relay()


@app.handler(IngestCallStatus)
async def ingest_call_status(cmd: IngestCallStatus, ctx: Context) -> None:
    """Twilio's <Gather> posts the key pressed on a call Berth placed: verify the request came
    from Twilio (X-Twilio-Signature with the channel's Auth Token), record the call's status,
    and acknowledge the notification's alerts when the key is the channel's ``ack_digit``."""
    query = callback_query(cmd.query)
    name, nid = query.get("channel", ""), query.get("notification", "")
    ch = await state.channel(app.store, cmd.tenant, name) if name else None
    if ch is None or ch.kind != "twilio-voice" or ch.secret is None:
        raise Poison(f"query.channel: no twilio-voice channel {name!r} in tenant {cmd.tenant!r}")
    url = f"{ch.callback_url}{'&' if '?' in ch.callback_url else '?'}{cmd.query}" if cmd.query else ch.callback_url
    if not valid_twilio_signature(url, cmd.params, ch.secret.get_secret_value(), cmd.signature):
        raise Poison("signature: X-Twilio-Signature does not match this request and the channel's Auth Token")
    notes = app.store.collection(state.NOTIFICATIONS)
    rec = await notes.get(nid)
    if rec is None or rec.data.get("tenant") != cmd.tenant or rec.data.get("channel") != name:
        raise Poison(f"query.notification: no notification {nid!r} on channel {name!r}")
    digits = cmd.params.get("Digits", "")
    status = cmd.params.get("CallStatus") or ("answered" if digits else None)

    def mutate(data: dict[str, Any]) -> None:
        data.update(call_status=status or data.get("call_status"))

    await update(notes, nid, mutate, caused_by=ctx.envelope.id)
    if digits != ch.ack_digit:
        return
    who = cmd.params.get("To") or cmd.params.get("Called") or "phone"
    for fp in rec.data.get("fingerprints", []):
        try:
            await _acknowledge(
                cmd.tenant,
                fp,
                by=f"call:{who}",
                comment=f"key {digits} pressed on call {cmd.params.get('CallSid', '?')}",
                env=ctx.envelope,
            )
        except NotFound:
            log.warning("call acknowledged alert %s, which is gone", fp)
    app.wake_relay()


def _silence_from(cmd: SilenceAlerts, now: datetime) -> Silence:
    starts = cmd.starts_at or now
    ends = cmd.ends_at or (starts + timedelta(minutes=cmd.duration_minutes or 60))
    return Silence(
        id=cmd.id or new_id()[:16],
        tenant=cmd.tenant,
        matchers=cmd.matchers,
        starts_at=starts,
        ends_at=ends,
        created_by=cmd.created_by,
        comment=cmd.comment,
    )


def _silence_fact(s: Silence, action: str) -> AlertSilenced:
    return AlertSilenced(
        silence_id=s.id,
        action=action,
        matchers=[str(m) for m in s.matchers],
        starts_at=s.starts_at,
        ends_at=s.ends_at,
        created_by=s.created_by,
    )


@app.handler(SilenceAlerts)
async def silence(cmd: SilenceAlerts, ctx: Context) -> None:
    col = app.store.collection(state.SILENCES)
    now = deps.clock.now()
    if cmd.expire:
        if not cmd.id:
            raise Poison("id: required to expire a silence")
        rec = await col.get(state.key(cmd.tenant, cmd.id))
        if rec is None:
            raise Poison(f"id: no silence {cmd.id!r} in tenant {cmd.tenant!r}")
        s = Silence.model_validate(rec.data)

        def expire(data: dict[str, Any]) -> None:
            data["expired"] = True
            data["ends_at"] = max(now, s.starts_at + timedelta(seconds=1)).isoformat()

        await update(
            col,
            rec.key,
            expire,
            caused_by=ctx.envelope.id,
            events_for=lambda b, a: (
                []
                if b is None or b.get("expired")
                else [
                    registry.envelope(
                        _silence_fact(s, "expired"), **_attrs(ctx.envelope, cmd.tenant, f"silences/{s.id}")
                    )
                ]
            ),
        )
        await deps.alertmanagers.expire(rec.data.get("alertmanager_ids") or {})
        app.wake_relay()
        return
    try:
        s = _silence_from(cmd, now)
    except (ValidationError, ValueError) as exc:
        raise _invalid("silence", exc) from None
    skey = state.key(cmd.tenant, s.id)
    existing = await col.get(skey)
    if existing is None:
        fact = registry.envelope(_silence_fact(s, "created"), **_attrs(ctx.envelope, cmd.tenant, f"silences/{s.id}"))
        existing = await col.create(skey, s.model_dump(mode="json"), events=[fact], caused_by=ctx.envelope.id)
        app.wake_relay()
    if deps.alertmanagers.urls and not existing.data.get("alertmanager_ids"):
        ids = await deps.alertmanagers.push(s)

        def remember(data: dict[str, Any]) -> None:
            data["alertmanager_ids"] = ids
            data["alertmanager_id"] = next(iter(ids.values()), None)

        await update(col, skey, remember, caused_by=None)


async def _put(col_name: str, tenant: str, name: str, doc: dict[str, Any], env: Envelope) -> None:
    col = app.store.collection(col_name)

    def mutate(data: dict[str, Any]) -> dict[str, Any]:
        return doc

    await update(col, state.key(tenant, name), mutate, caused_by=env.id, initial={})


@app.handler(PutChannel)
async def put_channel(cmd: PutChannel, ctx: Context) -> None:
    ch = cmd.channel.model_copy(update={"tenant": cmd.tenant})
    try:
        for field in ("template", "title_template"):
            src = getattr(ch, field)
            if src:
                check_template(src, field=field)
        for pname, src in ch.template_params.items():
            check_template(src, field=f"template_params.{pname}")
    except ValueError as exc:
        raise _invalid("channel", exc) from None
    await _put(state.CHANNELS, cmd.tenant, ch.name, state.stored_channel(ch), ctx.envelope)


@app.handler(DeleteChannel)
async def delete_channel(cmd: DeleteChannel, ctx: Context) -> None:
    try:
        await app.store.collection(state.CHANNELS).delete(state.key(cmd.tenant, cmd.name))
    except NotFound:
        return


@app.handler(PutRoute)
async def put_route(cmd: PutRoute, ctx: Context) -> None:
    r = cmd.route.model_copy(update={"tenant": cmd.tenant})
    await _put(state.ROUTES, cmd.tenant, r.name, r.model_dump(mode="json", by_alias=True), ctx.envelope)


@app.handler(DeleteRoute)
async def delete_route(cmd: DeleteRoute, ctx: Context) -> None:
    try:
        await app.store.collection(state.ROUTES).delete(state.key(cmd.tenant, cmd.name))
    except NotFound:
        return


@app.handler(PutScalingPolicy)
async def put_scaling_policy(cmd: PutScalingPolicy, ctx: Context) -> None:
    p = cmd.policy.model_copy(update={"tenant": cmd.tenant})

    def mutate(data: dict[str, Any]) -> None:
        data.update(tenant=cmd.tenant, name=p.name, policy=p.model_dump(mode="json"))
        data.setdefault("current", None)

    await update(
        app.store.collection(state.SCALING),
        state.key(cmd.tenant, p.name),
        mutate,
        caused_by=ctx.envelope.id,
        initial={},
    )


@app.handler(DeleteScalingPolicy)
async def delete_scaling_policy(cmd: DeleteScalingPolicy, ctx: Context) -> None:
    try:
        await app.store.collection(state.SCALING).delete(state.key(cmd.tenant, cmd.name))
    except NotFound:
        return


# --- escalation ---------------------------------------------------------------------------
async def escalate_once(store: Store) -> int:
    """Queue escalation notifications that are due; returns how many were queued."""
    now = deps.clock.now()
    queued = 0
    alerts = await state.list_all(store.collection(state.ALERTS), where={"status": "firing"})
    by_tenant: dict[str, tuple[dict[str, Channel], list[Any]]] = {}
    for doc in alerts:
        tenant = doc["tenant"]
        if tenant not in by_tenant:
            by_tenant[tenant] = (await state.channels(store, tenant), await state.routes(store, tenant))
        chans, routes = by_tenant[tenant]
        alert = Alert(
            status="firing",
            labels=doc["labels"],
            annotations=doc.get("annotations", {}),
            startsAt=doc["starts_at"],
            fingerprint=doc["fingerprint"],
        )
        for step in due_route_steps(doc, routes, now):
            for target in step.channels:
                await ingest_mod.queue_notification(
                    store,
                    tenant=tenant,
                    channel_name=target,
                    channel=chans.get(target),
                    alerts=[alert],
                    dedupe_keys=[f"{doc['fingerprint']}|{doc.get('occurrence')}|{step.key}|{target}"],
                    payload=None,
                    now=now,
                    escalation=True,
                )
                queued += 1

            def take(data: dict[str, Any], key: str = step.key) -> None:
                data.setdefault("escalation_steps", {}).setdefault(key, now.isoformat())

            await update(store.collection(state.ALERTS), state.key(tenant, doc["fingerprint"]), take, caused_by=None)
        for target in due_escalations(doc, chans, now):
            await ingest_mod.queue_notification(
                store,
                tenant=tenant,
                channel_name=target,
                channel=chans.get(target),
                alerts=[alert],
                dedupe_keys=[f"{doc['fingerprint']}|{doc.get('occurrence')}|escalate|{target}"],
                payload=None,
                now=now,
                escalation=True,
            )
            queued += 1

            def mark(data: dict[str, Any], target: str = target) -> None:
                data.setdefault("escalated", {}).setdefault(target, now.isoformat())

            await update(store.collection(state.ALERTS), state.key(tenant, doc["fingerprint"]), mark, caused_by=None)
    if queued and _dispatcher is not None:
        _dispatcher.wake()
    return queued
