"""Queries (``berth.api.release-orchestrator.<op>``): releases, templates, configs."""

from __future__ import annotations

from typing import Any

from berth_common.bus import QueryError
from berth_schema.release import (
    ConfigDiff,
    ConfigDiffReply,
    ConfigHistory,
    ConfigHistoryReply,
    ConfigPage,
    ConfigView,
    GetConfig,
    GetRelease,
    GetTemplate,
    ListConfigs,
    ListReleases,
    ListTemplates,
    ReleaseDetail,
    ReleasePage,
    ReleaseSummary,
    TemplatePage,
    TemplateView,
)

from . import state
from .app import app
from .domain import configs as cfgs
from .domain.configs import Config
from .domain.errors import Invalid
from .domain.release import Release
from .domain.templates import Template


def summary(rel: Release) -> ReleaseSummary:
    cur = rel.current
    return ReleaseSummary(
        name=rel.name,
        tenant=rel.tenant,
        cluster=rel.cluster,
        namespace=rel.namespace,
        environment=rel.environment,
        revision=rel.revision,
        phase=rel.phase,
        strategy=rel.strategy.get("kind", "rolling"),
        image=rel.image,
        weight=rel.weight,
        current_step=cur.name if cur is not None and rel.active else None,
        step=f"{min(rel.step_index + 1, len(rel.steps))}/{len(rel.steps)}",
        updated_at=rel.updated_at.isoformat(),
    )


def _filters(req: Any, *names: str) -> dict[str, Any]:
    return {f: getattr(req, f) for f in names if getattr(req, f)}


@app.query(ListReleases)
async def list_releases(req: ListReleases) -> ReleasePage:
    where = {"tenant": req.tenant, **_filters(req, "cluster", "namespace", "phase")}
    recs = await state.list_all(app.store.collection(state.RELEASES), where=where)
    return ReleasePage(items=[summary(Release.model_validate(r.data)) for r in recs])


@app.query(GetRelease)
async def get_release(req: GetRelease) -> ReleaseDetail:
    rel = state.load_release(await app.store.collection(state.RELEASES).get(state.key(req.tenant, req.release)))
    if rel is None:
        raise QueryError(404, f"release {req.release} not found")
    return ReleaseDetail.model_validate(rel.view())


def template_view(tpl: Template, *, tenant: str) -> TemplateView:
    # another tenant's public template is named owner/name, as create-release takes it
    name = tpl.name if tpl.tenant == tenant else f"{tpl.tenant}/{tpl.name}"
    return TemplateView.model_validate(
        {**tpl.model_dump(mode="json"), "name": name, "tenant": tenant, "owner": tpl.tenant}
    )


@app.query(ListTemplates)
async def list_templates(req: ListTemplates) -> TemplatePage:
    col = app.store.collection(state.TEMPLATES)
    own = await state.list_all(col, where={"tenant": req.tenant})
    public = await state.list_all(col, where={"visibility": "public"})
    seen: set[str] = set()
    items = []
    for r in [*own, *public]:
        if r.key in seen:
            continue
        seen.add(r.key)
        items.append(template_view(Template.model_validate(r.data), tenant=req.tenant))
    return TemplatePage(items=items)


@app.query(GetTemplate)
async def get_template(req: GetTemplate) -> TemplateView:
    tpl = await state.find_template(app.store, req.tenant, req.template)
    if tpl is None:
        raise QueryError(404, f"template {req.template} not found")
    # get-template keeps the template's own name (owner/name is only how lists show it)
    return TemplateView.model_validate({**tpl.model_dump(mode="json"), "tenant": req.tenant, "owner": tpl.tenant})


async def _config(req: GetConfig | ConfigHistory | ConfigDiff) -> Config:
    tenant, name, env = req.tenant, req.config, req.environment
    col = app.store.collection(state.CONFIGS)
    if env:
        cfg = state.load_config(await col.get(cfgs.key(tenant, env, name)))
        if cfg is None:
            raise QueryError(404, f"config {name} not found in environment {env}")
        return cfg
    found = [Config.model_validate(r.data) for r in await state.list_all(col, where={"tenant": tenant, "name": name})]
    if not found:
        raise QueryError(404, f"config {name} not found")
    if len(found) > 1:
        envs = ", ".join(sorted(c.environment for c in found))
        raise QueryError(400, f"environment: config {name} exists in {envs}; say which")
    return found[0]


@app.query(ListConfigs)
async def list_configs(req: ListConfigs) -> ConfigPage:
    where = {"tenant": req.tenant, **_filters(req, "environment", "app", "cluster")}
    recs = await state.list_all(app.store.collection(state.CONFIGS), where=where)
    return ConfigPage(items=[ConfigView.model_validate(cfgs.view(Config.model_validate(r.data))) for r in recs])


@app.query(GetConfig)
async def get_config(req: GetConfig) -> ConfigView:
    return ConfigView.model_validate(cfgs.view(await _config(req)))


@app.query(ConfigHistory)
async def config_history(req: ConfigHistory) -> ConfigHistoryReply:
    cfg = await _config(req)
    return ConfigHistoryReply.model_validate(
        {"name": cfg.name, "environment": cfg.environment, "tenant": cfg.tenant, "items": cfgs.history(cfg)}
    )


@app.query(ConfigDiff)
async def config_diff(req: ConfigDiff) -> ConfigDiffReply:
    cfg = await _config(req)
    try:
        return ConfigDiffReply.model_validate({"tenant": cfg.tenant, **cfgs.version_diff(cfg, req.from_, req.to)})
    except Invalid as exc:
        raise QueryError(404, str(exc)) from None
