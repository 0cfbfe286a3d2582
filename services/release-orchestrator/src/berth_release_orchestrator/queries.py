"""Queries (``berth.api.release-orchestrator.<op>``): releases, templates, configs."""

from __future__ import annotations

from typing import Any

from berth_common.bus import QueryError

from . import state
from .app import app
from .domain import configs as cfgs
from .domain.configs import Config
from .domain.errors import Invalid
from .domain.release import Release
from .domain.templates import Template


def _tenant(req: dict[str, Any]) -> str:
    tenant = req.get("tenant")
    if not isinstance(tenant, str) or not tenant:
        raise QueryError(400, "tenant: required")
    return tenant


def _name(req: dict[str, Any], *fields: str) -> str:
    for f in fields:
        v = req.get(f)
        if isinstance(v, str) and v:
            return v
    raise QueryError(400, f"{fields[0]}: required")


def _int(req: dict[str, Any], field: str) -> int:
    try:
        return int(req[field])
    except (KeyError, TypeError, ValueError):
        raise QueryError(400, f"{field}: an integer version is required") from None


def summary(rel: Release) -> dict[str, Any]:
    cur = rel.current
    return {
        "name": rel.name,
        "tenant": rel.tenant,
        "cluster": rel.cluster,
        "namespace": rel.namespace,
        "environment": rel.environment,
        "revision": rel.revision,
        "phase": rel.phase,
        "strategy": rel.strategy.get("kind", "rolling"),
        "image": rel.image,
        "weight": rel.weight,
        "current_step": cur.name if cur is not None and rel.active else None,
        "step": f"{min(rel.step_index + 1, len(rel.steps))}/{len(rel.steps)}",
        "updated_at": rel.updated_at.isoformat(),
    }


@app.query("list-releases")
async def list_releases(req: dict[str, Any]) -> dict[str, Any]:
    tenant = _tenant(req)
    where: dict[str, Any] = {"tenant": tenant}
    for f in ("cluster", "namespace", "phase"):
        if isinstance(req.get(f), str) and req[f]:
            where[f] = req[f]
    recs = await state.list_all(app.store.collection(state.RELEASES), where=where)
    return {"items": [summary(Release.model_validate(r.data)) for r in recs]}


@app.query("get-release")
async def get_release(req: dict[str, Any]) -> dict[str, Any]:
    tenant, name = _tenant(req), _name(req, "release", "name")
    rel = state.load_release(await app.store.collection(state.RELEASES).get(state.key(tenant, name)))
    if rel is None:
        raise QueryError(404, f"release {name} not found")
    return rel.view()


@app.query("list-templates")
async def list_templates(req: dict[str, Any]) -> dict[str, Any]:
    tenant = _tenant(req)
    col = app.store.collection(state.TEMPLATES)
    own = await state.list_all(col, where={"tenant": tenant})
    public = await state.list_all(col, where={"visibility": "public"})
    seen: set[str] = set()
    items = []
    for r in [*own, *public]:
        if r.key in seen:
            continue
        seen.add(r.key)
        tpl = Template.model_validate(r.data)
        # another tenant's public template is named owner/name, as create-release takes it
        name = tpl.name if tpl.tenant == tenant else f"{tpl.tenant}/{tpl.name}"
        items.append({**tpl.model_dump(mode="json"), "name": name, "tenant": tenant, "owner": tpl.tenant})
    return {"items": items}


@app.query("get-template")
async def get_template(req: dict[str, Any]) -> dict[str, Any]:
    tenant, name = _tenant(req), _name(req, "template", "name")
    tpl = await state.find_template(app.store, tenant, name)
    if tpl is None:
        raise QueryError(404, f"template {name} not found")
    return {**tpl.model_dump(mode="json"), "tenant": tenant, "owner": tpl.tenant}


async def _config(req: dict[str, Any]) -> Config:
    tenant, name = _tenant(req), _name(req, "config", "name")
    col = app.store.collection(state.CONFIGS)
    env = req.get("environment")
    if isinstance(env, str) and env:
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


@app.query("list-configs")
async def list_configs(req: dict[str, Any]) -> dict[str, Any]:
    tenant = _tenant(req)
    where: dict[str, Any] = {"tenant": tenant}
    for f in ("environment", "app", "cluster"):
        if isinstance(req.get(f), str) and req[f]:
            where[f] = req[f]
    recs = await state.list_all(app.store.collection(state.CONFIGS), where=where)
    return {"items": [cfgs.view(Config.model_validate(r.data)) for r in recs]}


@app.query("get-config")
async def get_config(req: dict[str, Any]) -> dict[str, Any]:
    return cfgs.view(await _config(req))


@app.query("config-history")
async def config_history(req: dict[str, Any]) -> dict[str, Any]:
    cfg = await _config(req)
    return {"name": cfg.name, "environment": cfg.environment, "tenant": cfg.tenant, "items": cfgs.history(cfg)}


@app.query("config-diff")
async def config_diff(req: dict[str, Any]) -> dict[str, Any]:
    cfg = await _config(req)
    try:
        return {"tenant": cfg.tenant, **cfgs.version_diff(cfg, _int(req, "from"), _int(req, "to"))}
    except Invalid as exc:
        raise QueryError(404, str(exc)) from None
