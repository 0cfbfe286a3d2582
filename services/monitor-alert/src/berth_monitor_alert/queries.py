"""Queries of monitor-alert (``berth.api.monitor-alert.<op>``), declared on the app."""

from __future__ import annotations

from typing import Any

from berth_common.bus import QueryError
from berth_schema.alert import (
    AlertPage,
    AlertView,
    ChannelPage,
    ChannelView,
    DeadLetterPage,
    DeadLetterView,
    ListAlerts,
    ListChannels,
    ListDeadLetters,
    ListNotifications,
    ListRoutes,
    ListScalingPolicies,
    ListSilences,
    NotificationPage,
    NotificationView,
    PreviewTemplate,
    RenderRules,
    RoutePage,
    RouteView,
    RulePack,
    ScalingPolicyPage,
    ScalingPolicyView,
    SilencePage,
    SilenceView,
    TemplatePreview,
)
from berth_schema.alert.channels import Channel
from berth_schema.queries import PageQuery, TenantQuery
from pydantic import ValidationError

from . import ingest as ingest_mod
from . import state
from .app import app
from .config import deps
from .domain.channels import limit as channel_limit
from .domain.payload import Alert
from .domain.rulepacks import render_rules
from .domain.silences import Silence
from .domain.templates import TemplateInvalid, render, sample_alerts


def _tenant(req: TenantQuery) -> str:
    return req.tenant or deps.settings.default_tenant


async def _page(col_name: str, req: PageQuery, **where: Any) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the tenant's documents and the key to continue after."""
    recs = await app.store.collection(col_name).list(
        where={"tenant": _tenant(req), **where}, after=req.after, limit=req.limit
    )
    return [dict(r.data) for r in recs], (recs[-1].key if recs else None)


@app.query(ListAlerts)
async def list_alerts(req: ListAlerts) -> AlertPage:
    docs, after = await _page(state.ALERTS, req, **({"status": req.status} if req.status else {}))
    for d in docs:
        d.pop("seen", None)  # dedupe bookkeeping
    return AlertPage(items=[AlertView.model_validate(d) for d in docs], next=after)


@app.query(ListChannels)
async def list_channels(req: ListChannels) -> ChannelPage:
    docs, after = await _page(state.CHANNELS, req)
    return ChannelPage(items=[ChannelView.model_validate(Channel.model_validate(d).public()) for d in docs], next=after)


@app.query(ListRoutes)
async def list_routes(req: ListRoutes) -> RoutePage:
    docs, after = await _page(state.ROUTES, req)
    return RoutePage(items=[RouteView.model_validate(d) for d in docs], next=after)


@app.query(ListSilences)
async def list_silences(req: ListSilences) -> SilencePage:
    docs, after = await _page(state.SILENCES, req)
    now = deps.clock.now()
    items = [SilenceView.model_validate({**d, "active": Silence.model_validate(d).active(now)}) for d in docs]
    return SilencePage(items=items, next=after)


@app.query(ListDeadLetters)
async def list_dead_letters(req: ListDeadLetters) -> DeadLetterPage:
    docs, after = await _page(state.DEAD_LETTERS, req)
    return DeadLetterPage(items=[DeadLetterView.model_validate(d) for d in docs], next=after)


@app.query(ListNotifications)
async def list_notifications(req: ListNotifications) -> NotificationPage:
    docs, after = await _page(state.NOTIFICATIONS, req)
    return NotificationPage(items=[NotificationView.model_validate(d) for d in docs], next=after)


@app.query(ListScalingPolicies)
async def list_scaling_policies(req: ListScalingPolicies) -> ScalingPolicyPage:
    docs, after = await _page(state.SCALING, req)
    return ScalingPolicyPage(items=[ScalingPolicyView.model_validate(d) for d in docs], next=after)


async def _channel(req: PreviewTemplate, tenant: str) -> Channel:
    if req.channel is not None:
        return Channel.model_validate({**req.channel, "tenant": tenant})
    if req.name:
        found = await state.channel(app.store, tenant, req.name)
        if found is None:
            raise QueryError(404, f"name: no channel {req.name!r} in tenant {tenant!r}")
        return found
    raise QueryError(400, "channel or name: give a channel object or a stored channel's name")


@app.query(PreviewTemplate)
async def preview_template(req: PreviewTemplate) -> TemplatePreview:
    """Render a channel's template for the given alerts (or sample alerts); returns the split parts."""
    try:
        ch = await _channel(req, _tenant(req))
        if req.template is not None:
            ch = ch.model_copy(update={"template": req.template})
        alerts = [Alert.model_validate(a) for a in req.alerts] if req.alerts else sample_alerts(deps.clock.now())
        rendered = render(ch, alerts)
        parts = ingest_mod.build_parts(ch, alerts, None)
    except TemplateInvalid as exc:
        raise QueryError(422, str(exc)) from None
    except ValidationError as exc:
        err = exc.errors()[0]
        raise QueryError(400, f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}") from None
    return TemplatePreview.model_validate(
        {"title": rendered.title, "text": rendered.text, "parts": parts, "limit": channel_limit(ch)}
    )


@app.query(RenderRules)
async def render_rule_pack(req: RenderRules) -> RulePack:
    try:
        return RulePack(cluster=req.cluster, yaml=render_rules(req.cluster))
    except ValueError as exc:
        raise QueryError(400, str(exc)) from None
