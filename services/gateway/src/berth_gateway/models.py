"""Request and response bodies of the HTTP API (the OpenAPI document is generated from these)."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
Name = Annotated[
    str,
    Field(min_length=1, max_length=63, pattern=NAME_PATTERN, description="DNS label: a-z, 0-9, '-'"),
]
Role = Literal["platform-admin", "tenant-admin", "developer", "viewer"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _cidr(value: str, field: str, *, prefixes: tuple[int, int] = (8, 24)) -> str:
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid CIDR ({exc})") from None
    if not isinstance(net, ipaddress.IPv4Network) or not net.is_private:
        raise ValueError(f"{field} must be a private IPv4 range (10/8, 172.16/12, 192.168/16)")
    low, high = prefixes
    if not low <= net.prefixlen <= high:
        raise ValueError(f"{field} prefix length must be between /{low} and /{high}, got /{net.prefixlen}")
    return str(net)


# --- forms standing in for bodies the schema still carries as untyped dicts ---------------------
# (cluster-manager's create.spec / create-namespace.namespace, dr-switcher's create-group.spec);
# bodies.py uses the schema's model instead as soon as the command types that field.


class ClusterCreate(Body):
    """The creation form of the console (cluster-manager's ClusterSpec): service selection, network,
    advanced settings. cluster-manager's validate-cluster query checks the values with its own rules
    before the command is sent."""

    name: str = Field(min_length=1, max_length=40, pattern=NAME_PATTERN, description="DNS label, at most 40 characters")
    version: str | None = Field(
        default=None, pattern=r"^v\d+\.\d+\.\d+$", description="empty: cluster-manager's default version"
    )
    provider: Literal["local", "hosted"] = "hosted"
    region: str = Field(default="", max_length=63)
    billing_mode: Literal["pay-per-use", "yearly-monthly"] = "pay-per-use"
    flavour: Literal[50, 200, 1000] = Field(default=50, description="management scale in nodes")
    ha: bool = Field(default=False, description="3 control-plane replicas; cannot change later")
    multi_az: bool = False
    network_model: Literal["overlay", "vpc"] = Field(default="overlay", description="container tunnel or VPC network")
    vpc_cidr: str = "192.168.0.0/16"
    subnet_cidr: str = "192.168.1.0/24"
    pod_cidr: str | None = Field(default=None, description="container CIDR; empty: chosen automatically")
    max_pods_per_node: int = Field(default=110, ge=16, le=256)
    service_cidr: str = "10.247.0.0/16"
    kube_proxy_mode: Literal["iptables", "ipvs"] = "iptables"
    rbac: bool = True
    x509_auth: bool = True
    description: str = Field(default="", max_length=60)

    @field_validator("vpc_cidr", "subnet_cidr")
    @classmethod
    def _net(cls, v: str, info: ValidationInfo) -> str:
        return _cidr(v, str(info.field_name), prefixes=(8, 28))

    @field_validator("pod_cidr")
    @classmethod
    def _pod(cls, v: str | None) -> str | None:
        return _cidr(v, "pod_cidr") if v else None

    @field_validator("service_cidr")
    @classmethod
    def _svc(cls, v: str) -> str:
        return _cidr(v, "service_cidr")

    @model_validator(mode="after")
    def _networks(self) -> ClusterCreate:
        errors: list[tuple[str, str]] = []
        vpc, subnet = ipaddress.ip_network(self.vpc_cidr), ipaddress.ip_network(self.subnet_cidr)
        svc = ipaddress.ip_network(self.service_cidr)
        if not subnet.subnet_of(vpc):  # type: ignore[arg-type]
            errors.append(("subnet_cidr", f"{subnet} is not inside the VPC {vpc}"))
        if svc.overlaps(vpc):
            errors.append(("service_cidr", f"service_cidr {svc} overlaps the VPC {vpc}"))
        if self.pod_cidr:
            pod = ipaddress.ip_network(self.pod_cidr)
            if pod.overlaps(svc):
                errors.append(("pod_cidr", f"pod_cidr {pod} overlaps service_cidr {svc}"))
            if pod.overlaps(vpc):
                errors.append(("pod_cidr", f"pod_cidr {pod} overlaps the VPC {vpc}"))
        if self.multi_az and not self.ha:
            errors.append(("multi_az", "a multi-AZ control plane needs ha=true"))
        if errors:
            raise FieldErrors(errors)
        return self


class FieldErrors(ValueError):
    """Cross-field errors that still name their fields (see problems.field_errors)."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {m}" for f, m in errors))
        self.errors = errors


Quantity = Annotated[str, Field(pattern=r"^[0-9]+(\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$", max_length=32)]


class NamespaceCreate(Body):
    name: Name
    description: str = Field(default="", max_length=60, description="at most 60 characters (cluster-manager's limit)")
    quota: dict[str, Quantity] = Field(default_factory=dict, max_length=32, description="e.g. requests.cpu: '4'")
    isolated: bool = Field(default=False, description="network isolation (NetworkPolicy)")
    node_selector: dict[str, str] = Field(default_factory=dict, max_length=32, description="node affinity")


class JoinTokenRequest(Body):
    """How long the join token stays valid (kubeadm's default: 24 hours; at most 7 days); used
    until node-manager's join-command query is typed in the schema."""

    ttl_seconds: int = Field(default=86400, ge=60, le=7 * 86400)


class DrGroupCreate(BaseModel):
    """A DR group document (name, primary, standby, dns/ingress, probe ...); dr-switcher checks the rest."""

    model_config = ConfigDict(extra="allow")
    name: Name
    primary: dict[str, Any] | str
    standby: dict[str, Any] | str


class TenantCreate(Body):
    name: Name
    display_name: str = Field(default="", max_length=120)


class MemberBind(Body):
    """A role for a user, or for everyone in an IdP group (the OIDC token's groups claim)."""

    user: str = Field(default="", max_length=255)
    group: str = Field(default="", max_length=255)
    role: Role
    namespace: str = Field(default="", max_length=63, description="empty: the whole tenant")

    @model_validator(mode="after")
    def _one_subject(self) -> MemberBind:
        if bool(self.user) == bool(self.group):
            raise ValueError("give exactly one of user or group")
        if self.user.startswith("group:"):
            raise ValueError("user: a user name cannot start with 'group:' (bind the group with group)")
        return self


class TokenCreate(Body):
    name: str = Field(min_length=1, max_length=63)
    expires_in_days: int = Field(default=90, ge=1, le=3650)


PRINTABLE = r"^[^\x00-\x1f\x7f]+$"


class ChatBindingCreate(Body):
    platform: Literal["dingtalk", "feishu", "slack"]
    chat_user: str = Field(min_length=1, max_length=255, pattern=PRINTABLE, description="the chat platform's user id")
    user: str = Field(min_length=1, max_length=255, pattern=PRINTABLE)


# --- responses -----------------------------------------------------------------------------


class Page(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None = Field(default=None, description="opaque; pass as ?cursor= for the next page")
    remaining: int | None = Field(default=None, description="how many more the tenant may create (when the list says)")
    limit: int | None = Field(default=None, description="the tenant's limit for this list (when the list says)")


class Operation(BaseModel):
    id: str
    kind: str
    target: str
    tenant: str
    state: Literal["pending", "running", "succeeded", "failed"]
    message: str = ""
    steps: list[dict[str, Any]] = Field(default_factory=list)
    created_at: str
    updated_at: str
    requested_by: str


class Accepted(BaseModel):
    operation: Operation


class TokenCreated(BaseModel):
    id: str
    name: str
    token: str = Field(description="shown once; only a salted hash is stored")
    expires_at: str


class ProblemField(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str = ""
    request_id: str = ""
    errors: list[ProblemField] | None = None
