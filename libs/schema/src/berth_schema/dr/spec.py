"""What a DR group is: two sites, how traffic reaches each (DNS targets and/or an ingress
canary weight), how each is probed, and the switching policy. The create-group and
update-group commands carry it; a field it does not name is refused."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")

SiteRole = Literal["primary", "standby"]


def other(role: SiteRole) -> SiteRole:
    return "standby" if role == "primary" else "primary"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _fqdn(value: str) -> str:
    name = value.lower()
    if not name.endswith("."):
        name += "."
    labels = name[:-1].split(".")
    if len(name) > 254 or not all(_LABEL.match(label) for label in labels):
        raise ValueError(f"{value!r} is not a valid DNS name")
    return name


class HttpProbe(_Strict):
    """HTTP(S) GET; healthy when the status is one of ``expect_status`` and the body contains
    ``expect_body`` (when set)."""

    kind: Literal["http"] = "http"
    name: str = Field(default="http", pattern=NAME, max_length=63)
    url: str = Field(max_length=2048)
    expect_status: list[int] = Field(default_factory=lambda: [200], min_length=1, max_length=20)
    expect_body: str | None = Field(default=None, max_length=1024)
    verify_tls: bool = True
    headers: dict[str, str] = Field(default_factory=dict, max_length=20)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        return v

    @field_validator("expect_status")
    @classmethod
    def _status(cls, v: list[int]) -> list[int]:
        for code in v:
            if not 100 <= code <= 599:
                raise ValueError(f"{code} is not an HTTP status code")
        return v


class TcpProbe(_Strict):
    """Healthy when a TCP connection to host:port opens within the timeout."""

    kind: Literal["tcp"] = "tcp"
    name: str = Field(default="tcp", pattern=NAME, max_length=63)
    host: str = Field(min_length=1, max_length=253)
    port: int = Field(ge=1, le=65535)


class DnsProbe(_Strict):
    """Healthy when ``server`` answers ``qname``/``rdtype`` and (when ``expect`` is set) the
    answer contains one of the expected values."""

    kind: Literal["dns"] = "dns"
    name: str = Field(default="dns", pattern=NAME, max_length=63)
    qname: str
    rdtype: Literal["A", "AAAA", "CNAME", "TXT"] = "A"
    server: str = Field(min_length=1, max_length=253)
    port: int = Field(default=53, ge=1, le=65535)
    expect: list[str] = Field(default_factory=list, max_length=20)

    @field_validator("qname")
    @classmethod
    def _qname(cls, v: str) -> str:
        return _fqdn(v)

    @field_validator("server")
    @classmethod
    def _server(cls, v: str) -> str:
        try:
            ipaddress.ip_address(v)
        except ValueError:
            raise ValueError("must be an IP address (the resolver to ask)") from None
        return v


Probe = Annotated[HttpProbe | TcpProbe | DnsProbe, Field(discriminator="kind")]


class Site(_Strict):
    """One site of the pair. ``dns_targets`` are the record contents traffic goes to while this
    site is active; ``ingress`` is the Ingress object that serves it (ingress-weight mode)."""

    name: str = Field(pattern=NAME, max_length=63)
    dns_targets: list[str] = Field(default_factory=list, max_length=16)
    ingress: str | None = Field(default=None, pattern=NAME, max_length=253)
    probes: list[Probe] = Field(min_length=1, max_length=10)

    @model_validator(mode="after")
    def _unique_probe_names(self) -> Site:
        names = [p.name for p in self.probes]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"probe names must be unique within a site: {sorted(dup)}")
        return self


class DnsSwitch(_Strict):
    """A record in a PowerDNS zone whose contents are replaced by the active site's targets."""

    provider: str = Field(default="default", pattern=NAME, max_length=63)
    zone: str
    record: str
    type: Literal["A", "AAAA", "CNAME"] = "A"
    ttl: int = Field(default=30, ge=1, le=3600)

    @field_validator("zone", "record")
    @classmethod
    def _names(cls, v: str) -> str:
        return _fqdn(v)

    @model_validator(mode="after")
    def _in_zone(self) -> DnsSwitch:
        if self.record != self.zone and not self.record.endswith("." + self.zone):
            raise ValueError(f"record {self.record} is not inside zone {self.zone}")
        return self


class IngressSwitch(_Strict):
    """ingress-nginx canary weights: the standby site's Ingress is the canary of the primary's
    (same host); weight 100 sends all traffic to the standby, 0 all to the primary."""

    cluster: str = Field(pattern=NAME, max_length=63)
    namespace: str = Field(pattern=NAME, max_length=63)


class ProbePolicy(_Strict):
    interval_seconds: float = Field(default=10.0, ge=0.05, le=3600)
    timeout_seconds: float = Field(default=3.0, gt=0, le=600)
    failure_threshold: int = Field(default=3, ge=1, le=100, description="N consecutive failures mark a site down")
    recovery_threshold: int = Field(default=2, ge=1, le=100, description="M consecutive successes mark it up again")
    history: int = Field(default=50, ge=1, le=1000, description="probe results kept per site")

    @model_validator(mode="after")
    def _timeout_fits(self) -> ProbePolicy:
        if self.timeout_seconds > self.interval_seconds:
            raise ValueError(
                f"timeout_seconds ({self.timeout_seconds}) must not exceed interval_seconds ({self.interval_seconds})"
            )
        return self


class Witness(_Strict):
    """A third vantage point asked before a site is declared failed: a witness agent
    (``python -m berth_dr_switcher.witness``) running somewhere else than Berth, e.g. in the
    peer site. dr-switcher POSTs the failing site's probes to ``url``; the agent runs them from
    where it stands and answers whether the site is reachable. Only when it agrees that the
    site is down does an automatic failover start, so a partition between Berth and one site
    does not move a healthy site's traffic."""

    url: str = Field(max_length=2048)
    timeout_seconds: float = Field(default=5.0, gt=0, le=120, description="how long to wait for the witness")
    headers: dict[str, str] = Field(default_factory=dict, max_length=20)
    if_unreachable: Literal["hold", "failover"] = Field(
        default="hold",
        description="when the witness does not answer: hold (no automatic failover) or fail over on Berth's view",
    )

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        return v


class GroupSpec(_Strict):
    name: str = Field(pattern=NAME, max_length=63)
    description: str = Field(default="", max_length=1024)
    primary: Site
    standby: Site
    dns: DnsSwitch | None = None
    ingress: IngressSwitch | None = None
    probe: ProbePolicy = Field(default_factory=ProbePolicy)
    auto_failover: bool = True
    auto_failback: bool = False
    hold_down_seconds: float = Field(
        default=300.0, ge=0, le=86400, description="no automatic switch this long after one"
    )
    switch_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    drill_max_seconds: float = Field(default=3600.0, gt=0, le=86400)
    linked_groups: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="groups of the same tenant that follow this one when it switches (linked applications)",
    )
    depends_on: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="groups of the same tenant this one needs (e.g. its database): they switch before it, "
        "and a switch of this group moves them too",
    )
    witness: Witness | None = None

    @model_validator(mode="after")
    def _coherent(self) -> GroupSpec:
        for linked in self.linked_groups:
            if not re.match(NAME, linked):
                raise ValueError(f"linked_groups: {linked!r} is not a group name")
            if linked == self.name:
                raise ValueError("linked_groups: a group cannot follow itself")
        for dep in self.depends_on:
            if not re.match(NAME, dep):
                raise ValueError(f"depends_on: {dep!r} is not a group name")
            if dep == self.name:
                raise ValueError("depends_on: a group cannot depend on itself")
        if len(set(self.depends_on)) != len(self.depends_on):
            raise ValueError("depends_on: a group is listed twice")
        if self.witness is not None and self.witness.timeout_seconds < self.probe.timeout_seconds:
            raise ValueError(
                f"witness.timeout_seconds ({self.witness.timeout_seconds}) must not be below "
                f"probe.timeout_seconds ({self.probe.timeout_seconds}): the witness runs the same probes"
            )
        if self.primary.name == self.standby.name:
            raise ValueError("primary.name and standby.name must differ")
        if self.dns is None and self.ingress is None:
            raise ValueError("set dns and/or ingress: a group needs a way to move traffic")
        if self.dns is not None:
            for role in ("primary", "standby"):
                site: Site = getattr(self, role)
                if not site.dns_targets:
                    raise ValueError(f"{role}.dns_targets: required when dns is set")
                for target in site.dns_targets:
                    _check_target(self.dns.type, target, f"{role}.dns_targets")
                if self.dns.type == "CNAME" and len(site.dns_targets) != 1:
                    raise ValueError(f"{role}.dns_targets: a CNAME has exactly one target")
        if self.ingress is not None:
            for role in ("primary", "standby"):
                if not getattr(self, role).ingress:
                    raise ValueError(f"{role}.ingress: required when ingress is set")
            if self.primary.ingress == self.standby.ingress:
                raise ValueError("primary.ingress and standby.ingress must be different Ingress objects")
        return self

    def site(self, role: SiteRole) -> Site:
        return self.primary if role == "primary" else self.standby


def _check_target(rtype: str, target: str, where: str) -> None:
    if rtype in ("A", "AAAA"):
        try:
            addr = ipaddress.ip_address(target)
        except ValueError:
            raise ValueError(f"{where}: {target!r} is not an IP address") from None
        if (rtype == "A") != (addr.version == 4):
            raise ValueError(f"{where}: {target!r} is not an IPv{4 if rtype == 'A' else 6} address")
    else:
        _fqdn(target)


def parse_spec(raw: dict[str, Any]) -> GroupSpec:
    """Validate a group document (raises pydantic ValidationError naming the bad field)."""
    return GroupSpec.model_validate(raw)
