"""The cluster creation form (what ``create`` carries as ``spec``) and its rules.

The rules here need nothing but the form itself. What depends on the running cluster-manager
(the Kubernetes versions it supports, the providers it has configured, the tenant's limits)
it checks itself, in its ``validate-cluster`` query and its ``create`` handler.

Types are loose on purpose: one validator checks the values and reports every broken rule at
once, each at its field, instead of stopping at the first.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Network

from pydantic import BaseModel, ConfigDict, Field, model_validator

from . import network
from .rules import Problem, problem, refuse

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
VERSION = re.compile(r"^v\d+\.\d+\.\d+$")
NAME_MAX = 40  # leaves room for "-etcd-0" style suffixes inside a 63-char label
DESCRIPTION_MAX = 60
REGION_MAX = 63
MAX_PODS = (16, 256)

PROVIDERS = ("hosted", "local")
FLAVOURS = (50, 200, 1000)  # management scale: how many nodes the control plane is sized for
NETWORK_MODELS = ("overlay", "vpc")
KUBE_PROXY_MODES = ("iptables", "ipvs")
BILLING_MODES = ("pay-per-use", "yearly-monthly")


class Form(BaseModel):
    """A form a user fills in: a field it does not name is refused, naming it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ClusterSpec(Form):
    """Create a cluster: service selection, network and advanced settings of the creation form."""

    name: str = Field(
        description=f"DNS-1123 label, at most {NAME_MAX} characters",
        json_schema_extra={"pattern": DNS1123_LABEL.pattern, "maxLength": NAME_MAX},
    )
    version: str | None = Field(
        default=None,
        description="a Kubernetes version cluster-manager supports (cluster-options lists them); empty: its default",
        json_schema_extra={"pattern": VERSION.pattern},
    )
    provider: str | None = Field(
        default=None,
        description="hosted (control plane as pods of a host cluster) or local (processes); empty: cluster-manager's "
        "configured default (cluster-options default_provider: hosted when a host cluster is configured, else local)",
        json_schema_extra={"enum": [*PROVIDERS, None]},
    )
    region: str = Field(default="", json_schema_extra={"maxLength": REGION_MAX})
    billing_mode: str = Field(default="pay-per-use", json_schema_extra={"enum": list(BILLING_MODES)})
    flavour: int = Field(
        default=50, description="management scale in nodes", json_schema_extra={"enum": list(FLAVOURS)}
    )
    ha: bool = Field(default=False, description="3 control-plane replicas; cannot change later")
    multi_az: bool = Field(default=False, description="spread the control plane over zones; needs ha")
    network_model: str = Field(
        default="overlay",
        description="overlay (container tunnel network) or vpc (VPC network)",
        json_schema_extra={"enum": list(NETWORK_MODELS)},
    )
    vpc_cidr: str = "192.168.0.0/16"
    subnet_cidr: str = Field(default="192.168.1.0/24", description="inside the VPC")
    pod_cidr: str | None = Field(
        default=None, description="container CIDR; empty: a recommended range chosen automatically"
    )
    max_pods_per_node: int = Field(default=110, json_schema_extra={"minimum": MAX_PODS[0], "maximum": MAX_PODS[1]})
    service_cidr: str = Field(default="10.247.0.0/16", description="/24 or wider, outside the VPC")
    kube_proxy_mode: str = Field(default="iptables", json_schema_extra={"enum": list(KUBE_PROXY_MODES)})
    rbac: bool = True
    x509_auth: bool = True
    description: str = Field(default="", json_schema_extra={"maxLength": DESCRIPTION_MAX})

    @model_validator(mode="after")
    def _rules(self) -> ClusterSpec:
        problems = spec_problems(self)
        if problems:
            raise refuse(type(self).__name__, problems, self)
        return self

    # --- what the form implies -----------------------------------------------------------
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


def _choice(out: list[Problem], field: str, value: object, allowed: tuple[object, ...]) -> None:
    if value not in allowed:
        out.append(problem(field, f"{value!r} is not one of {', '.join(map(str, allowed))}"))


def _cidr(out: list[Problem], field: str, value: str | None) -> IPv4Network | None:
    if value is None:
        return None
    try:
        return network.parse_cidr(value)
    except ValueError as exc:
        out.append(problem(field, str(exc)))
        return None


def spec_problems(spec: ClusterSpec) -> list[Problem]:
    """Every rule ``spec`` breaks, each naming its field; empty when the form is valid."""
    out: list[Problem] = []
    if not DNS1123_LABEL.match(spec.name) or len(spec.name) > NAME_MAX:
        out.append(
            problem(
                "name",
                f"{spec.name!r} must be a DNS-1123 label: lowercase letters, digits and '-', "
                f"starting and ending with a letter or digit, at most {NAME_MAX} characters",
            )
        )
    if spec.version is not None and not VERSION.match(spec.version):
        out.append(problem("version", f"{spec.version!r} is not a Kubernetes version like v1.36.3"))
    if spec.provider is not None:
        _choice(out, "provider", spec.provider, PROVIDERS)
    _choice(out, "flavour", spec.flavour, FLAVOURS)
    _choice(out, "network_model", spec.network_model, NETWORK_MODELS)
    _choice(out, "kube_proxy_mode", spec.kube_proxy_mode, KUBE_PROXY_MODES)
    _choice(out, "billing_mode", spec.billing_mode, BILLING_MODES)
    if len(spec.region) > REGION_MAX:
        out.append(problem("region", f"{len(spec.region)} characters; at most {REGION_MAX} are allowed"))
    if len(spec.description) > DESCRIPTION_MAX:
        out.append(problem("description", f"{len(spec.description)} characters; at most {DESCRIPTION_MAX} are allowed"))
    pods_ok = MAX_PODS[0] <= spec.max_pods_per_node <= MAX_PODS[1]
    if not pods_ok:
        out.append(problem("max_pods_per_node", f"{spec.max_pods_per_node} is outside {MAX_PODS[0]}..{MAX_PODS[1]}"))
    if spec.multi_az and not spec.ha:
        out.append(problem("multi_az", "a multi-AZ control plane needs ha=true (3 replicas to spread)"))
    out += _network_problems(spec, sizes_known=pods_ok and spec.flavour in FLAVOURS)
    return out


def _network_problems(spec: ClusterSpec, *, sizes_known: bool) -> list[Problem]:
    out: list[Problem] = []
    vpc = _cidr(out, "vpc_cidr", spec.vpc_cidr)
    subnet = _cidr(out, "subnet_cidr", spec.subnet_cidr)
    service = _cidr(out, "service_cidr", spec.service_cidr)
    pod = _cidr(out, "pod_cidr", spec.pod_cidr)

    if vpc and subnet and not subnet.subnet_of(vpc):
        out.append(problem("subnet_cidr", f"{subnet} is not inside the VPC {vpc}"))
    if subnet:
        needed = network.HA_CONTROL_PLANE_IPS if spec.ha else 1
        if network.subnet_available_ips(subnet) < needed:
            out.append(problem("subnet_cidr", f"{subnet} has too few free addresses for the control plane"))
    if service and service.prefixlen > 24:
        out.append(problem("service_cidr", f"{service} is too small; use /24 or wider"))
    if service and vpc and service.overlaps(vpc):
        out.append(problem("service_cidr", f"{service} overlaps the VPC {vpc}"))
    if pod:
        if vpc and pod.overlaps(vpc):
            out.append(problem("pod_cidr", f"{pod} overlaps the VPC {vpc}"))
        if service and pod.overlaps(service):
            out.append(problem("pod_cidr", f"{pod} overlaps the service CIDR {service}"))
        if sizes_known:
            capacity, needed_pods = network.pod_capacity(pod), spec.needed_pods()
            if capacity < needed_pods:
                out.append(
                    problem(
                        "pod_cidr",
                        f"{pod} holds about {capacity} pods but {spec.flavour} nodes x "
                        f"{spec.max_pods_per_node} pods per node need {needed_pods}; choose a wider range",
                    )
                )
    return out


def auto_pod_cidr(spec: ClusterSpec) -> str | None:
    """The recommended container range for ``spec`` (its pod_cidr left empty): the first that holds
    every pod its flavour needs and overlaps neither the VPC nor the service CIDR."""
    avoid = []
    for value in (spec.vpc_cidr, spec.service_cidr):
        try:
            avoid.append(network.parse_cidr(value))
        except ValueError:
            continue
    chosen = network.auto_pod_cidr(needed_pods=spec.needed_pods(), avoid=avoid)
    return str(chosen) if chosen else None
