"""Building a release's workload (a template's parameters overridden by the release's values)
and the best-practice checks from the brief: pinned image tags, requests/limits, probes,
graceful stop, more than one replica. The parameters themselves are ``WorkloadSpec``
(``berth_schema.release.workload``)."""

from __future__ import annotations

import copy
from typing import Any

from berth_schema.release.workload import WorkloadSpec
from pydantic import ValidationError

from .errors import Invalid, from_validation


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def build_workload(base: dict[str, Any] | None, values: dict[str, Any], *, prefix: str = "workload") -> WorkloadSpec:
    """The template's workload parameters overridden by the release's values."""
    merged = deep_merge(base or {}, values)
    try:
        return WorkloadSpec.model_validate(merged)
    except ValidationError as exc:
        raise from_validation(exc, prefix) from None


def best_practice_errors(spec: WorkloadSpec, *, environment: str, prefix: str = "workload") -> list[tuple[str, str]]:
    """Rules the brief makes hard outside the dev environment."""
    if environment == "dev":
        return []
    errors: list[tuple[str, str]] = []
    if not spec.pinned:
        errors.append(
            (f"{prefix}.image", f"{spec.image!r} has no tag or uses 'latest'; pin a version outside environment dev")
        )
    return errors


def best_practice_warnings(spec: WorkloadSpec) -> list[str]:
    warnings = []
    if spec.replicas < 2:
        warnings.append("replicas: a single instance goes down during a release; run at least 2")
    if spec.readiness_probe is None:
        warnings.append("readiness_probe: without one traffic reaches pods before they are ready")
    elif spec.readiness_probe.kind == "tcp":
        warnings.append("readiness_probe: prefer an HTTP probe to a TCP one")
    if spec.resources.cpu_limit is None or spec.resources.memory_limit is None:
        warnings.append("resources: set both CPU and memory limits")
    if spec.pre_stop_sleep_seconds == 0:
        warnings.append("pre_stop_sleep_seconds: without a preStop hook connections drop on shutdown")
    return warnings


def check(spec: WorkloadSpec, *, environment: str, prefix: str = "workload") -> None:
    errors = best_practice_errors(spec, environment=environment, prefix=prefix)
    if errors:
        raise Invalid(errors)
