"""The cluster spec: every field of the creation form, and its validation.

Validation collects every error (each naming its field) instead of stopping at the first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Network
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import network
from .errors import FieldError, ValidationFailed
from .versions import DEFAULT_VERSION, SUPPORTED_VERSIONS, is_supported

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
NAME_MAX = 40  # leaves room for "-etcd-0" style suffixes inside a 63-char label
DESCRIPTION_MAX = 60

NETWORK_MODELS = ("overlay", "vpc")
KUBE_PROXY_MODES = ("ipvs", "iptables")
BILLING_MODES = ("pay-per-use", "yearly-monthly")
PROVIDERS = ("hosted", "local")


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


class ClusterSpec(BaseModel):
    """What the creation form sends. Types are loose on purpose: ``validate_spec`` checks the
    values and reports every bad field at once."""

    model_config = ConfigDict(extra="forbid")

    name: str
    version: str = DEFAULT_VERSION
    provider: str = "hosted"
    ha: bool = False
    flavour: int = 50
    network_model: str = "overlay"
    vpc_cidr: str = "192.168.0.0/16"
    subnet_cidr: str = "192.168.1.0/24"
    pod_cidr: str | None = Field(default=None, description="None selects a recommended range automatically")
    max_pods_per_node: int = 110
    service_cidr: str = "10.247.0.0/16"
    kube_proxy_mode: str = "iptables"
    rbac: bool = True
    x509_auth: bool = True
    multi_az: bool = False
    description: str = ""
    billing_mode: str = "pay-per-use"
    region: str = ""

    @property
    def flavour_info(self) -> Flavour:
        return FLAVOURS[self.flavour]

    @property
    def control_plane_replicas(self) -> int:
        return 3 if self.ha else 1

    def needed_pods(self) -> int:
        return self.flavour * self.max_pods_per_node

    def pod_capacity(self) -> int:
        return network.pod_capacity(network.parse_cidr(self.pod_cidr)) if self.pod_cidr else 0

    def service_ip(self) -> str:
        return str(network.service_ip(network.parse_cidr(self.service_cidr)))

    def dns_ip(self) -> str:
        return str(network.dns_ip(network.parse_cidr(self.service_cidr)))


def _choice(errors: list[FieldError], field: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        errors.append(FieldError(field, f"{value!r} is not one of {', '.join(allowed)}"))


def _cidr(errors: list[FieldError], field: str, value: str) -> IPv4Network | None:
    try:
        return network.parse_cidr(value)
    except ValueError as exc:
        errors.append(FieldError(field, str(exc)))
        return None


def validate_spec(spec: ClusterSpec) -> list[FieldError]:
    """Every problem with ``spec``, each naming its field; empty when the spec is valid."""
    errors: list[FieldError] = []
    if not DNS1123_LABEL.match(spec.name) or len(spec.name) > NAME_MAX:
        errors.append(
            FieldError(
                "name",
                f"{spec.name!r} must be a DNS-1123 label: lowercase letters, digits and '-', "
                f"starting and ending with a letter or digit, at most {NAME_MAX} characters",
            )
        )
    if not is_supported(spec.version):
        errors.append(
            FieldError("version", f"{spec.version!r} is not supported; supported: {', '.join(SUPPORTED_VERSIONS)}")
        )
    _choice(errors, "provider", spec.provider, PROVIDERS)
    if spec.flavour not in FLAVOURS:
        errors.append(FieldError("flavour", f"{spec.flavour} is not one of {', '.join(map(str, FLAVOURS))} nodes"))
    _choice(errors, "network_model", spec.network_model, NETWORK_MODELS)
    _choice(errors, "kube_proxy_mode", spec.kube_proxy_mode, KUBE_PROXY_MODES)
    _choice(errors, "billing_mode", spec.billing_mode, BILLING_MODES)
    if len(spec.description) > DESCRIPTION_MAX:
        errors.append(
            FieldError("description", f"{len(spec.description)} characters; at most {DESCRIPTION_MAX} are allowed")
        )
    if not 16 <= spec.max_pods_per_node <= 256:
        errors.append(FieldError("max_pods_per_node", f"{spec.max_pods_per_node} is outside 16..256"))
    if spec.multi_az and not spec.ha:
        errors.append(FieldError("multi_az", "a multi-AZ control plane needs ha=true (3 replicas to spread)"))

    vpc = _cidr(errors, "vpc_cidr", spec.vpc_cidr)
    subnet = _cidr(errors, "subnet_cidr", spec.subnet_cidr)
    service = _cidr(errors, "service_cidr", spec.service_cidr)
    pod = _cidr(errors, "pod_cidr", spec.pod_cidr) if spec.pod_cidr is not None else None

    if vpc and subnet and not subnet.subnet_of(vpc):
        errors.append(FieldError("subnet_cidr", f"{subnet} is not inside the VPC {vpc}"))
    if subnet:
        needed = network.HA_CONTROL_PLANE_IPS if spec.ha else 1
        if network.subnet_available_ips(subnet) < needed:
            errors.append(FieldError("subnet_cidr", f"{subnet} has too few free addresses for the control plane"))
    if service and service.prefixlen > 24:
        errors.append(FieldError("service_cidr", f"{service} is too small; use /24 or wider"))
    if service and vpc and service.overlaps(vpc):
        errors.append(FieldError("service_cidr", f"{service} overlaps the VPC {vpc}"))
    if pod:
        if vpc and pod.overlaps(vpc):
            errors.append(FieldError("pod_cidr", f"{pod} overlaps the VPC {vpc}"))
        if service and pod.overlaps(service):
            errors.append(FieldError("pod_cidr", f"{pod} overlaps the service CIDR {service}"))
        if spec.flavour in FLAVOURS and 16 <= spec.max_pods_per_node <= 256:
            capacity, needed_pods = network.pod_capacity(pod), spec.needed_pods()
            if capacity < needed_pods:
                errors.append(
                    FieldError(
                        "pod_cidr",
                        f"{pod} holds about {capacity} pods but {spec.flavour} nodes x "
                        f"{spec.max_pods_per_node} pods per node need {needed_pods}; choose a wider range",
                    )
                )
    return errors


def complete_spec(spec: ClusterSpec) -> ClusterSpec:
    """Fill the automatic choices (the pod CIDR when the form left it on 自动选择)."""
    if spec.pod_cidr is not None or spec.flavour not in FLAVOURS:
        return spec
    avoid = []
    for value in (spec.vpc_cidr, spec.service_cidr):
        try:
            avoid.append(network.parse_cidr(value))
        except ValueError:
            continue
    chosen = network.auto_pod_cidr(needed_pods=spec.needed_pods(), avoid=avoid)
    return spec.model_copy(update={"pod_cidr": str(chosen) if chosen else None})


def parse_spec(data: dict[str, Any]) -> ClusterSpec:
    """Raw form data -> a complete, valid spec, or ValidationFailed listing every bad field."""
    try:
        spec = ClusterSpec.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(
            [FieldError(".".join(str(p) for p in e["loc"]) or "spec", e["msg"]) for e in exc.errors()]
        ) from None
    return checked(spec)


def checked(spec: ClusterSpec) -> ClusterSpec:
    spec = complete_spec(spec)
    errors = validate_spec(spec)
    if spec.pod_cidr is None and not any(e.field == "flavour" for e in errors):
        errors.append(FieldError("pod_cidr", "no recommended range is free and large enough; set pod_cidr"))
    if errors:
        raise ValidationFailed(errors)
    return spec
