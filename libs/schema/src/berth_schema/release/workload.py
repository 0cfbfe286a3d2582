"""A workload's parameters (Deployment + Service + Ingress), as a create-release command
carries them inline and a workload template holds them."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
HOST = r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
QUANTITY = r"^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$"
# registry/path/name[:tag][@sha256:digest]
IMAGE = re.compile(
    r"^(?P<name>[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._/-][a-z0-9]+)*)*)"
    r"(:(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(@(?P<digest>sha256:[a-f0-9]{64}))?$"
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Port(Strict):
    name: str = Field(default="http", max_length=15, pattern=DNS_LABEL)
    container_port: int = Field(ge=1, le=65535)
    service_port: int | None = Field(default=None, ge=1, le=65535)
    protocol: Literal["TCP", "UDP"] = "TCP"


class Probe(Strict):
    kind: Literal["http", "tcp", "exec"] = "http"
    path: str = Field(default="/healthz", pattern=r"^/")
    port: int | None = Field(default=None, ge=1, le=65535)
    command: list[str] = Field(default_factory=list)
    initial_delay_seconds: int = Field(default=5, ge=0, le=3600)
    period_seconds: int = Field(default=10, ge=1, le=3600)
    failure_threshold: int = Field(default=3, ge=1, le=100)

    @model_validator(mode="after")
    def _exec_needs_command(self) -> Probe:
        if self.kind == "exec" and not self.command:
            raise ValueError("command: an exec probe needs a command")
        return self


class Resources(Strict):
    cpu_request: str = Field(default="100m", pattern=QUANTITY)
    memory_request: str = Field(default="128Mi", pattern=QUANTITY)
    cpu_limit: str | None = Field(default="1", pattern=QUANTITY)
    memory_limit: str | None = Field(default="256Mi", pattern=QUANTITY)


class IngressSpec(Strict):
    host: str = Field(max_length=253, pattern=HOST)
    path: str = Field(default="/", pattern=r"^/")
    ingress_class: str = Field(default="nginx", max_length=63)
    tls_secret: str | None = Field(default=None, pattern=DNS_LABEL)


class WorkloadSpec(Strict):
    image: str = Field(min_length=1, max_length=512)
    replicas: int = Field(default=2, ge=0, le=1000)
    ports: list[Port] = Field(default_factory=lambda: [Port(container_port=8080)], max_length=16)
    command: list[str] | None = None
    args: list[str] | None = None
    env: dict[str, str] = Field(default_factory=dict)
    config_refs: list[str] = Field(
        default_factory=list, description="config-center ConfigMaps/Secrets mounted as environment (envFrom)"
    )
    resources: Resources = Field(default_factory=Resources)
    readiness_probe: Probe | None = Field(default_factory=Probe)
    liveness_probe: Probe | None = None
    pre_stop_sleep_seconds: int = Field(default=5, ge=0, le=300, description="preStop sleep for a graceful stop")
    termination_grace_seconds: int = Field(default=30, ge=0, le=3600)
    labels: dict[str, str] = Field(default_factory=dict)
    node_selector: dict[str, str] = Field(default_factory=dict)
    spread_across_nodes: bool = Field(default=True, description="preferred pod anti-affinity on hostname")
    ingress: IngressSpec | None = None

    @field_validator("image")
    @classmethod
    def _image(cls, v: str) -> str:
        if not IMAGE.match(v):
            raise ValueError(f"{v!r} is not an image reference (registry/repo:tag)")
        return v

    @field_validator("ports")
    @classmethod
    def _ports(cls, v: list[Port]) -> list[Port]:
        names = [p.name for p in v]
        if len(set(names)) != len(names):
            raise ValueError("port names must be unique")
        return v

    @field_validator("env")
    @classmethod
    def _env(cls, v: dict[str, str]) -> dict[str, str]:
        for key in v:
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_.-]*$", key):
                raise ValueError(f"{key!r} is not a valid environment variable name")
        return v

    @property
    def image_tag(self) -> str | None:
        m = IMAGE.match(self.image)
        return m.group("tag") if m else None

    @property
    def pinned(self) -> bool:
        m = IMAGE.match(self.image)
        return bool(m and (m.group("digest") or (m.group("tag") and m.group("tag") != "latest")))
