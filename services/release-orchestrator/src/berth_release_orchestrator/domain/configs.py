"""The config center (配置中心): versioned ConfigMaps and Secrets per app and environment.

Every change is a new version; a rollback writes a new version carrying an old version's
data (history only grows). Secret values are kept for rollback but never shown: views and
diffs name the keys and a short digest."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from typing import Any, Literal

from berth_schema.release.configs import ConfigSpec
from pydantic import BaseModel, Field, ValidationError

from .errors import Invalid, from_validation

KEEP_VERSIONS = 50


class ConfigVersion(BaseModel):
    version: int
    data: dict[str, str]
    labels: dict[str, str] = Field(default_factory=dict)
    at: datetime
    by: str = ""
    rollback_of: int | None = None


class Config(BaseModel):
    tenant: str
    name: str
    app: str
    environment: str
    cluster: str
    namespace: str
    kind: Literal["ConfigMap", "Secret"]
    description: str = ""
    version: int
    data: dict[str, str]
    labels: dict[str, str] = Field(default_factory=dict)
    updated_at: datetime
    updated_by: str = ""
    versions: list[ConfigVersion] = Field(default_factory=list)

    def at_version(self, version: int) -> ConfigVersion:
        for v in self.versions:
            if v.version == version:
                return v
        kept = ", ".join(str(v.version) for v in self.versions)
        raise Invalid([("to_version", f"config {self.name} has no version {version} (kept: {kept})")])


def parse_spec(raw: dict[str, Any]) -> ConfigSpec:
    try:
        return ConfigSpec.model_validate(raw)
    except ValidationError as exc:
        raise from_validation(exc, "config") from None


def key(tenant: str, environment: str, name: str) -> str:
    return f"{tenant}:{environment}:{name}"


def diff(before: dict[str, str], after: dict[str, str]) -> dict[str, list[str]]:
    return {
        "added": sorted(set(after) - set(before)),
        "removed": sorted(set(before) - set(after)),
        "changed": sorted(k for k in set(before) & set(after) if before[k] != after[k]),
    }


def change(
    current: Config | None, spec: ConfigSpec, *, tenant: str, by: str, now: datetime, rollback_of: int | None = None
) -> tuple[Config, dict[str, list[str]]]:
    """The next version of a config (or its first) and the key diff from the current one."""
    if current is not None:
        fixed = {"app": (current.app, spec.app), "cluster": (current.cluster, spec.cluster)}
        fixed |= {"namespace": (current.namespace, spec.namespace), "kind": (current.kind, spec.kind)}
        errors = [
            (f"config.{f}", f"config {current.name} in {current.environment} has {f} {was!r}; it cannot change")
            for f, (was, now_) in fixed.items()
            if was != now_
        ]
        if errors:
            raise Invalid(errors)
    version = (current.version + 1) if current is not None else 1
    entry = ConfigVersion(version=version, data=spec.data, labels=spec.labels, at=now, by=by, rollback_of=rollback_of)
    history = [*(current.versions if current else []), entry][-KEEP_VERSIONS:]
    cfg = Config(
        tenant=tenant,
        name=spec.name,
        app=spec.app,
        environment=spec.environment,
        cluster=spec.cluster,
        namespace=spec.namespace,
        kind=spec.kind,
        description=spec.description,
        version=version,
        data=spec.data,
        labels=spec.labels,
        updated_at=now,
        updated_by=by,
        versions=history,
    )
    return cfg, diff(current.data if current else {}, spec.data)


def restore_spec(cfg: Config, to_version: int) -> ConfigSpec:
    old = cfg.at_version(to_version)
    return ConfigSpec(
        name=cfg.name,
        app=cfg.app,
        environment=cfg.environment,
        cluster=cfg.cluster,
        namespace=cfg.namespace,
        kind=cfg.kind,
        data=old.data,
        labels=old.labels,
        description=cfg.description,
    )


def _digest(value: str) -> str:
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:12]


def shown(kind: str, data: dict[str, str]) -> dict[str, str]:
    return {k: (_digest(v) if kind == "Secret" else v) for k, v in data.items()}


def view(cfg: Config) -> dict[str, Any]:
    data = cfg.model_dump(mode="json", exclude={"versions"})
    data["data"] = shown(cfg.kind, cfg.data)
    data["versions"] = [v.version for v in cfg.versions]
    return data


def history(cfg: Config) -> list[dict[str, Any]]:
    out = []
    prev: dict[str, str] = {}
    for v in cfg.versions:
        out.append(
            {
                "version": v.version,
                "at": v.at.isoformat(),
                "by": v.by,
                "rollback_of": v.rollback_of,
                "data": shown(cfg.kind, v.data),
                **diff(prev, v.data),
            }
        )
        prev = v.data
    return out


def version_diff(cfg: Config, a: int, b: int) -> dict[str, Any]:
    va, vb = cfg.at_version(a).data, cfg.at_version(b).data
    out: dict[str, Any] = {"from": a, "to": b, **diff(va, vb)}
    if cfg.kind == "ConfigMap":
        out["values"] = {
            k: {"from": va.get(k), "to": vb.get(k)} for k in sorted(set(va) | set(vb)) if va.get(k) != vb.get(k)
        }
    return out


def manifest(cfg: Config) -> dict[str, Any]:
    meta = {
        "name": cfg.name,
        "namespace": cfg.namespace,
        "labels": {**cfg.labels, "app.kubernetes.io/name": cfg.app, "app.kubernetes.io/managed-by": "berth",
                   "berth.io/environment": cfg.environment},
        "annotations": {"berth.io/config-version": str(cfg.version)},
    }  # fmt: skip
    if cfg.kind == "Secret":
        encoded = {k: base64.b64encode(v.encode()).decode() for k, v in cfg.data.items()}
        return {"apiVersion": "v1", "kind": "Secret", "metadata": meta, "type": "Opaque", "data": encoded}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": cfg.data}
