"""Request and response bodies of the HTTP API (the OpenAPI document is generated from these)."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
Name = Annotated[
    str,
    Field(min_length=1, max_length=63, pattern=NAME_PATTERN, description="DNS label: a-z, 0-9, '-'"),
]
Role = Literal["platform-admin", "tenant-admin", "developer", "viewer"]
K8S_VERSIONS = ("v1.29.0", "v1.30.0", "v1.31.0")


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _cidr(value: str, field: str) -> str:
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid CIDR ({exc})") from None
    if not isinstance(net, ipaddress.IPv4Network) or not net.is_private:
        raise ValueError(f"{field} must be a private IPv4 range (10/8, 172.16/12, 192.168/16)")
    if not 8 <= net.prefixlen <= 24:
        raise ValueError(f"{field} prefix length must be between /8 and /24, got /{net.prefixlen}")
    return str(net)


class ClusterNetwork(Body):
    model: Literal["tunnel", "vpc"] = Field(default="tunnel", description="container tunnel network or VPC network")
    vpc: str = Field(default="", max_length=63)
    subnet: str = Field(default="", max_length=63)
    pod_cidr: str = Field(default="172.16.0.0/16", description="container CIDR; cannot change after creation")
    service_cidr: str = Field(default="10.247.0.0/16")
    proxy_mode: Literal["iptables", "ipvs"] = "ipvs"

    @field_validator("pod_cidr")
    @classmethod
    def _pod(cls, v: str) -> str:
        return _cidr(v, "pod_cidr")

    @field_validator("service_cidr")
    @classmethod
    def _svc(cls, v: str) -> str:
        return _cidr(v, "service_cidr")

    @model_validator(mode="after")
    def _disjoint(self) -> ClusterNetwork:
        if ipaddress.ip_network(self.pod_cidr).overlaps(ipaddress.ip_network(self.service_cidr)):
            raise ValueError(f"service_cidr {self.service_cidr} overlaps pod_cidr {self.pod_cidr}")
        return self


class ClusterCreate(Body):
    """The creation form of the console (service selection, network, advanced settings)."""

    name: Name
    version: str = Field(default=K8S_VERSIONS[-1], pattern=r"^v\d+\.\d+\.\d+$")
    provider: Literal["local", "hosted"] = "local"
    region: str = Field(default="local", max_length=63)
    scale: Literal[50, 200, 1000] = Field(default=50, description="management scale in nodes")
    high_availability: bool = False
    network: ClusterNetwork = Field(default_factory=ClusterNetwork)
    rbac: bool = True
    description: str = Field(default="", max_length=60)
    multi_az: bool = False
    labels: dict[str, str] = Field(default_factory=dict, max_length=64)


class ClusterUpgrade(Body):
    version: str = Field(pattern=r"^v\d+\.\d+\.\d+$")


class NamespaceCreate(Body):
    name: Name
    description: str = Field(default="", max_length=255)
    network_isolation: bool = False
    node_affinity: dict[str, str] = Field(default_factory=dict)


Quantity = Annotated[str, Field(pattern=r"^[0-9]+(\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$", max_length=32)]


class QuotaSet(Body):
    hard: dict[str, Quantity] = Field(description="resource name → quantity, e.g. requests.cpu: '4'", max_length=32)


class NodePoolCreate(Body):
    name: Name
    flavor: str = Field(default="2c4g", max_length=32)
    size: int = Field(default=1, ge=0, le=1000)
    min_size: int = Field(default=0, ge=0, le=1000)
    max_size: int = Field(default=10, ge=0, le=1000)
    labels: dict[str, str] = Field(default_factory=dict, max_length=64)

    @model_validator(mode="after")
    def _bounds(self) -> NodePoolCreate:
        if not self.min_size <= self.size <= self.max_size:
            raise ValueError(f"size {self.size} must lie between min_size {self.min_size} and max_size {self.max_size}")
        return self


class PoolScale(Body):
    size: int = Field(ge=0, le=1000)


class NodeDrain(Body):
    grace_seconds: int = Field(default=30, ge=0, le=3600)
    force: bool = False


class RegistryCreate(Body):
    name: Name
    url: str = Field(pattern=r"^https?://[^\s/]+/?$", max_length=2048, description="http(s)://host[:port], no path")
    kind: Literal["distribution", "harbor"] = "distribution"
    username: str | None = Field(default=None, max_length=255)
    password: str | None = Field(default=None, max_length=255, json_schema_extra={"writeOnly": True})
    insecure: bool = False
    description: str = Field(default="", max_length=1024)


class ReplicationPolicyCreate(Body):
    name: Name
    mode: Literal["push", "pull"] = "push"
    source: Name
    destination: Name
    destination_prefix: str = Field(default="", max_length=255)
    filters: list[dict[str, Any]] = Field(default_factory=list, max_length=64)
    triggers: dict[str, Any] = Field(default_factory=dict)
    override: bool = True
    delete: bool = False
    dry_run: bool = False
    enabled: bool = True


class ReleaseCreate(Body):
    name: Name
    cluster: Name
    namespace: Name
    template: str = Field(max_length=255)
    strategy: Literal["rolling", "blue-green", "canary"] = "rolling"
    values: dict[str, Any] = Field(default_factory=dict)


class SilenceCreate(Body):
    matchers: list[
        Annotated[str, Field(min_length=3, max_length=255, pattern=r"^[A-Za-z_][A-Za-z0-9_]*(=~|!=|!~|=).*$")]
    ] = Field(min_length=1, max_length=32, description="Alertmanager matchers like alertname=HighCPU")
    duration_minutes: int = Field(default=60, ge=1, le=60 * 24 * 30)
    comment: str = Field(default="", max_length=255)


class AlertAck(Body):
    comment: str = Field(default="", max_length=255)


class DrGroupCreate(Body):
    name: Name
    primary: Name
    secondary: Name
    domain: str = Field(max_length=253, pattern=r"^[a-z0-9.-]+$")


class DrSwitch(Body):
    reason: str = Field(default="", max_length=255)


class TenantCreate(Body):
    name: Name
    display_name: str = Field(default="", max_length=120)


class MemberBind(Body):
    user: str = Field(min_length=1, max_length=255)
    role: Role
    namespace: str = Field(default="", max_length=63, description="empty: the whole tenant")


class TokenCreate(Body):
    name: str = Field(min_length=1, max_length=63)
    expires_in_days: int = Field(default=90, ge=1, le=3650)


class ChatBindingCreate(Body):
    platform: Literal["dingtalk", "feishu", "slack"]
    chat_user: str = Field(min_length=1, max_length=255)
    user: str = Field(min_length=1, max_length=255)


# --- responses -----------------------------------------------------------------------------


class Page(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None = Field(default=None, description="opaque; pass as ?cursor= for the next page")


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
