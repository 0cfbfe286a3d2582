"""Command handlers, queries and background loops of monitor-alert, declared on the app."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from berth_common.bus import Context, Poison, QueryError
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
    IngestWebhook,
    PutChannel,
    PutRoute,
    PutScalingPolicy,
    SilenceAlerts,
)
from pydantic import ValidationError

from . import ingest as ingest_mod
from . import scaler, state
from .adapters.alertmanager_api import expire_silence, push_silence
from .app import app
from .config import deps
from .dispatch import Dispatcher
from .domain.channels import Channel
from .domain.escalation import due_escalations
from .domain.payload import Alert, PayloadInvalid, parse_payload
from .domain.routing import Route
from .domain.rulepacks import render_rules
from .domain.scaling import ScalingPolicy
from .domain.silences import Silence
from .domain.templates import TemplateInvalid, check_template, render, sample_alerts

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
        if deps.settings.prometheus_url:
            issued = await scaler.evaluate_metrics(a.store, deps.settings.prometheus_url, now=deps.clock.now())
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


@app.handler(AckAlert)
async def ack(cmd: AckAlert, ctx: Context) -> None:
    now = deps.clock.now()

    def mutate(data: dict[str, Any]) -> None:
        if not data.get("acked_at"):
            data.update(acked_by=cmd.by, acked_at=now.isoformat(), ack_comment=cmd.comment)

    def events(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[Envelope]:
        if before is None or before.get("acked_at") or not after.get("acked_at"):
            return []
        fact = AlertAcknowledged(
            fingerprint=cmd.fingerprint, alertname=after.get("alertname", ""), by=cmd.by, comment=cmd.comment
        )
        return [registry.envelope(fact, **_attrs(ctx.envelope, cmd.tenant, f"alerts/{cmd.fingerprint}"))]

    try:
        await update(
            app.store.collection(state.ALERTS),
            state.key(cmd.tenant, cmd.fingerprint),
            mutate,
            caused_by=ctx.envelope.id,
            events_for=events,
        )
    except NotFound:
        raise Poison(f"fingerprint: no alert {cmd.fingerprint!r} in tenant {cmd.tenant!r}") from None
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
        await expire_silence(rec.data.get("alertmanager_ids") or {})
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
    if deps.settings.alertmanagers() and not existing.data.get("alertmanager_ids"):
        ids = await push_silence(deps.settings.alertmanagers(), s)

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
    try:
        ch = Channel.model_validate({**cmd.channel, "tenant": cmd.tenant})
        for field in ("template", "title_template"):
            src = getattr(ch, field)
            if src:
                check_template(src, field=field)
        if ch.escalate_to == ch.name:
            raise ValueError("escalate_to must name another channel")
    except (ValidationError, ValueError) as exc:
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
    try:
        r = Route.model_validate({**cmd.route, "tenant": cmd.tenant})
    except (ValidationError, ValueError) as exc:
        raise _invalid("route", exc) from None
    await _put(state.ROUTES, cmd.tenant, r.name, r.model_dump(mode="json", by_alias=True), ctx.envelope)


@app.handler(DeleteRoute)
async def delete_route(cmd: DeleteRoute, ctx: Context) -> None:
    try:
        await app.store.collection(state.ROUTES).delete(state.key(cmd.tenant, cmd.name))
    except NotFound:
        return


@app.handler(PutScalingPolicy)
async def put_scaling_policy(cmd: PutScalingPolicy, ctx: Context) -> None:
    try:
        p = ScalingPolicy.model_validate({**cmd.policy, "tenant": cmd.tenant})
    except (ValidationError, ValueError) as exc:
        raise _invalid("scaling policy", exc) from None

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
    by_tenant: dict[str, dict[str, Channel]] = {}
    for doc in alerts:
        tenant = doc["tenant"]
        if tenant not in by_tenant:
            by_tenant[tenant] = await state.channels(store, tenant)
        chans = by_tenant[tenant]
        for target in due_escalations(doc, chans, now):
            alert = Alert(
                status="firing",
                labels=doc["labels"],
                annotations=doc.get("annotations", {}),
                startsAt=doc["starts_at"],
                fingerprint=doc["fingerprint"],
            )
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


# --- queries ------------------------------------------------------------------------------
def _tenant(req: dict[str, Any]) -> str:
    tenant = req.get("tenant") or deps.settings.default_tenant
    if not isinstance(tenant, str):
        raise QueryError(400, "tenant: must be a string")
    return tenant


def _limit(req: dict[str, Any]) -> int:
    limit = req.get("limit", 100)
    if not isinstance(limit, int) or not 1 <= limit <= 1000:
        raise QueryError(400, "limit: must be an integer from 1 to 1000")
    return limit


async def _page(col_name: str, req: dict[str, Any], **where: Any) -> dict[str, Any]:
    tenant = _tenant(req)
    after = req.get("after")
    recs = await app.store.collection(col_name).list(
        where={"tenant": tenant, **where}, after=after if isinstance(after, str) else None, limit=_limit(req)
    )
    return {"items": [r.data for r in recs], "next": recs[-1].key if recs else None}


@app.query("list-alerts")
async def list_alerts(req: dict[str, Any]) -> dict[str, Any]:
    status = req.get("status")
    if status not in (None, "firing", "resolved"):
        raise QueryError(400, "status: must be firing or resolved")
    page = await _page(state.ALERTS, req, **({"status": status} if status else {}))
    for item in page["items"]:
        item.pop("seen", None)
    return page


@app.query("list-channels")
async def list_channels(req: dict[str, Any]) -> dict[str, Any]:
    page = await _page(state.CHANNELS, req)
    page["items"] = [Channel.model_validate(d).public() for d in page["items"]]
    return page


@app.query("list-routes")
async def list_routes(req: dict[str, Any]) -> dict[str, Any]:
    return await _page(state.ROUTES, req)


@app.query("list-silences")
async def list_silences(req: dict[str, Any]) -> dict[str, Any]:
    page = await _page(state.SILENCES, req)
    now = deps.clock.now()
    for item in page["items"]:
        item["active"] = Silence.model_validate(item).active(now)
    return page


@app.query("list-dead-letters")
async def list_dead_letters(req: dict[str, Any]) -> dict[str, Any]:
    return await _page(state.DEAD_LETTERS, req)


@app.query("list-notifications")
async def list_notifications(req: dict[str, Any]) -> dict[str, Any]:
    return await _page(state.NOTIFICATIONS, req)


@app.query("list-scaling-policies")
async def list_scaling_policies(req: dict[str, Any]) -> dict[str, Any]:
    return await _page(state.SCALING, req)


@app.query("preview-template")
async def preview_template(req: dict[str, Any]) -> dict[str, Any]:
    """Render a channel's template (a stored channel by ``name``, or a ``channel`` object) for
    ``alerts`` (Alertmanager alert objects) or sample alerts; returns the split parts."""
    tenant = _tenant(req)
    try:
        if isinstance(req.get("channel"), dict):
            ch = Channel.model_validate({**req["channel"], "tenant": tenant})
        elif isinstance(req.get("name"), str):
            found = await state.channel(app.store, tenant, req["name"])
            if found is None:
                raise QueryError(404, f"name: no channel {req['name']!r} in tenant {tenant!r}")
            ch = found
        else:
            raise QueryError(400, "channel or name: give a channel object or a stored channel's name")
        if isinstance(req.get("template"), str):
            ch = ch.model_copy(update={"template": req["template"]})
        raw_alerts = req.get("alerts")
        alerts = (
            [Alert.model_validate(a) for a in raw_alerts]
            if isinstance(raw_alerts, list) and raw_alerts
            else sample_alerts(deps.clock.now())
        )
        rendered = render(ch, alerts)
        parts = ingest_mod.build_parts(ch, alerts, None)
    except TemplateInvalid as exc:
        raise QueryError(422, str(exc)) from None
    except ValidationError as exc:
        err = exc.errors()[0]
        raise QueryError(400, f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}") from None
    return {"title": rendered.title, "text": rendered.text, "parts": parts, "limit": list(ch.limit)}


@app.query("render-rules")
async def render_rule_pack(req: dict[str, Any]) -> dict[str, Any]:
    cluster = req.get("cluster")
    if not isinstance(cluster, str):
        raise QueryError(400, "cluster: required")
    try:
        return {"cluster": cluster, "yaml": render_rules(cluster)}
    except ValueError as exc:
        raise QueryError(400, str(exc)) from None
