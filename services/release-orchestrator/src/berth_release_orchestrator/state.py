"""Collections release-orchestrator owns, their keys, and typed loaders."""

from __future__ import annotations

from typing import Any

from berth_common.events import Envelope, registry
from berth_common.store import Collection, Record, Store
from pydantic import BaseModel

from .domain.configs import Config
from .domain.release import Release
from .domain.templates import Template

RELEASES = "releases"
TEMPLATES = "templates"
CONFIGS = "configs"
WORKLOADS = "workloads"
LEASES = "leases"
COLLECTIONS = [RELEASES, TEMPLATES, CONFIGS, WORKLOADS, LEASES]

SOURCE = "/berth/release-orchestrator"
PAGE = 500


def key(tenant: str, name: str) -> str:
    return f"{tenant}:{name}"


def release_subject(name: str) -> str:
    return f"releases/{name}"


def release_doc(rel: Release) -> dict[str, Any]:
    """What is stored: the release plus top-level fields lists filter on."""
    return {**rel.model_dump(mode="json"), "active": rel.active}


def load_release(rec: Record | None) -> Release | None:
    return Release.model_validate(rec.data) if rec is not None else None


def load_template(rec: Record | None) -> Template | None:
    return Template.model_validate(rec.data) if rec is not None else None


def load_config(rec: Record | None) -> Config | None:
    return Config.model_validate(rec.data) if rec is not None else None


def envelopes(facts: list[BaseModel], *, tenant: str, subject: str, **attrs: Any) -> list[Envelope]:
    return [registry.envelope(f, source=SOURCE, tenant=tenant, subject=subject, **attrs) for f in facts]


def runner_attrs(rel: Release) -> dict[str, Any]:
    """Facts the runner publishes carry the release's own correlation id, so the gateway
    folds them into every operation open on the release (create, promote, rollback)."""
    return {"correlationid": f"release:{rel.tenant}:{rel.name}:{rel.revision}"}


async def list_all(col: Collection, *, where: dict[str, Any] | None = None) -> list[Record]:
    out: list[Record] = []
    after: str | None = None
    while True:
        page = await col.list(where=where, after=after, limit=PAGE)
        out.extend(page)
        if len(page) < PAGE:
            return out
        after = page[-1].key


async def find_template(store: Store, tenant: str, ref: str) -> Template | None:
    """``name``: the tenant's own template, else the one public template of that name;
    ``owner/name``: another tenant's public template."""
    col = store.collection(TEMPLATES)
    if "/" in ref:
        owner, _, name = ref.partition("/")
        tpl = load_template(await col.get(key(owner, name)))
        return tpl if tpl is not None and (tpl.tenant == tenant or tpl.visibility == "public") else None
    own = load_template(await col.get(key(tenant, ref)))
    if own is not None:
        return own
    public = [Template.model_validate(r.data) for r in await list_all(col, where={"name": ref, "visibility": "public"})]
    return public[0] if len(public) == 1 else None
