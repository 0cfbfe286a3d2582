"""A cluster's spec as cluster-manager runs it: the creation form (``berth_schema.cluster.ClusterSpec``,
whose own rules the schema checks) with this service's choices made (its default version and
provider, the automatic pod range) and the rules that depend on this service checked (the
versions it supports, the providers it has configured). Every problem is reported at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from berth_schema.cluster import ClusterSpec
from berth_schema.cluster.spec import PROVIDERS, VERSION, auto_pod_cidr
from pydantic import ValidationError

from .errors import FieldError, ValidationFailed
from .versions import DEFAULT_VERSION, SUPPORTED_VERSIONS


@dataclass(frozen=True, slots=True)
class Resources:
    cpu: str
    memory: str


@dataclass(frozen=True, slots=True)
class Flavour:
    """A cluster scale (管理规模): how many nodes it manages and how its control plane is sized."""

    nodes: int
    code: str
    apiserver: Resources
    etcd: Resources
    controller_manager: Resources
    scheduler: Resources
    etcd_storage: str
    max_requests_inflight: int


# keys: the schema's FLAVOURS (a test keeps them equal)
FLAVOURS: dict[int, Flavour] = {
    50: Flavour(
        50,
        "berth.s1.small",
        Resources("250m", "512Mi"),
        Resources("200m", "512Mi"),
        Resources("100m", "256Mi"),
        Resources("50m", "128Mi"),
        "10Gi",
        400,
    ),
    200: Flavour(
        200,
        "berth.s1.medium",
        Resources("1", "2Gi"),
        Resources("500m", "2Gi"),
        Resources("250m", "512Mi"),
        Resources("100m", "256Mi"),
        "20Gi",
        800,
    ),
    1000: Flavour(
        1000,
        "berth.s2.large",
        Resources("4", "8Gi"),
        Resources("2", "8Gi"),
        Resources("1", "2Gi"),
        Resources("500m", "1Gi"),
        "50Gi",
        1600,
    ),
}

HOSTED_HINT = "set BERTH_CM_HOST_KUBECONFIG or run cluster-manager in a cluster"


@dataclass(frozen=True, slots=True, kw_only=True)
class Offer:
    """What this cluster-manager can create: the providers it has configured and the versions it
    supports. An empty provider selects ``hosted`` when a host cluster is configured, else
    ``local``: a default that works wherever Berth runs."""

    providers: tuple[str, ...] = ("local",)
    versions: tuple[str, ...] = SUPPORTED_VERSIONS
    default_version: str = DEFAULT_VERSION

    @property
    def default_provider(self) -> str:
        return "hosted" if "hosted" in self.providers else "local"

    def problems(self, *, version: Any, provider: Any) -> list[FieldError]:
        """What the form asks for that this service cannot do (values the schema already
        refused are left to its message)."""
        out: list[FieldError] = []
        if isinstance(version, str) and VERSION.match(version) and version not in self.versions:
            out.append(FieldError("version", f"{version!r} is not supported; supported: {', '.join(self.versions)}"))
        if provider in PROVIDERS and provider not in self.providers:
            hint = f" ({HOSTED_HINT})" if provider == "hosted" else ""
            out.append(
                FieldError(
                    "provider",
                    f"{provider!r} is not configured on this platform{hint}; configured: {', '.join(self.providers)}",
                )
            )
        return out


class ResolvedSpec(ClusterSpec):
    """The form with cluster-manager's choices made: what the store keeps and providers run."""

    version: str
    provider: str

    @property
    def flavour_info(self) -> Flavour:
        return FLAVOURS[self.flavour]


def _field_errors(exc: ValidationError) -> list[FieldError]:
    return [FieldError(".".join(str(p) for p in e["loc"]) or "spec", e["msg"]) for e in exc.errors()]


def parse_spec(data: Mapping[str, Any], *, offer: Offer | None = None) -> ResolvedSpec:
    """Raw form data -> a complete, valid spec, or ValidationFailed listing every bad field."""
    offer = offer or Offer()
    try:
        form = ClusterSpec.model_validate(data)
    except ValidationError as exc:
        errors = _field_errors(exc)
        bad = {e.field for e in errors}
        extra = offer.problems(version=data.get("version"), provider=data.get("provider"))
        raise ValidationFailed(errors + [e for e in extra if e.field not in bad]) from None
    return resolve(form, offer=offer)


def resolve(form: ClusterSpec, *, offer: Offer | None = None) -> ResolvedSpec:
    """A valid form (a create command's spec) -> the spec cluster-manager runs, or ValidationFailed."""
    offer = offer or Offer()
    errors = offer.problems(version=form.version, provider=form.provider)
    if errors:
        raise ValidationFailed(errors)
    chosen = {
        "version": form.version or offer.default_version,
        "provider": form.provider or offer.default_provider,
        "pod_cidr": form.pod_cidr or auto_pod_cidr(form),
    }
    try:
        spec = ResolvedSpec.model_validate({**form.model_dump(), **chosen})
    except ValidationError as exc:
        raise ValidationFailed(_field_errors(exc)) from None
    if spec.pod_cidr is None:
        raise ValidationFailed([FieldError("pod_cidr", "no recommended range is free and large enough; set pod_cidr")])
    return spec
