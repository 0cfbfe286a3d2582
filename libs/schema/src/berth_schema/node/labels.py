"""Label and taint rules (Kubernetes validation) and the well-known keys node-manager sets."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

ZONE_LABEL = "topology.kubernetes.io/zone"
POOL_LABEL = "berth.io/pool"
FLAVOUR_LABEL = "berth.io/flavour"
CLUSTER_LABEL = "berth.io/cluster"
VERSION_LABEL = "berth.io/kubelet-version"
ROLE_LABEL_PREFIX = "node-role.kubernetes.io/"
# Labels node-manager owns: a user may not set them through a pool or set-labels.
RESERVED_LABELS = frozenset({ZONE_LABEL, POOL_LABEL, FLAVOUR_LABEL, CLUSTER_LABEL, VERSION_LABEL})

_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_PREFIX = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")

TaintEffect = Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]


def check_key(key: str, *, field: str = "key") -> str:
    """A qualified name: optional DNS prefix '/' name (63 chars); ValueError names the field."""
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _PREFIX.match(prefix)):
        raise ValueError(f"{field}: {key!r} has an invalid prefix (a DNS subdomain is expected)")
    if not _NAME.match(name):
        raise ValueError(
            f"{field}: {key!r} is not a valid label key (name of at most 63 characters, "
            "alphanumerics, '-', '_' or '.', starting and ending alphanumeric)"
        )
    return key


def check_value(value: str, *, field: str = "value") -> str:
    if value and not _NAME.match(value):
        raise ValueError(
            f"{field}: {value!r} is not a valid label value (at most 63 characters, alphanumerics, "
            "'-', '_' or '.', starting and ending alphanumeric)"
        )
    return value


def check_dns_label(value: str, *, field: str) -> str:
    if not _DNS_LABEL.match(value):
        raise ValueError(
            f"{field}: {value!r} must be a DNS label (lowercase alphanumerics and '-', at most 63 characters)"
        )
    return value


def check_labels(labels: dict[str, str], *, field: str = "labels", allow_reserved: bool = False) -> dict[str, str]:
    for key, value in labels.items():
        check_key(key, field=f"{field}[{key}]")
        check_value(value, field=f"{field}[{key}]")
        if not allow_reserved and key in RESERVED_LABELS:
            raise ValueError(f"{field}[{key}]: this label is managed by node-manager and cannot be set")
    return labels


class Taint(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    value: str = ""
    effect: TaintEffect = "NoSchedule"

    @field_validator("key")
    @classmethod
    def _key(cls, v: str) -> str:
        return check_key(v, field="taint.key")

    @field_validator("value")
    @classmethod
    def _value(cls, v: str) -> str:
        return check_value(v, field="taint.value")

    def to_kube(self) -> dict[str, str]:
        out = {"key": self.key, "effect": self.effect}
        if self.value:
            out["value"] = self.value
        return out

    @classmethod
    def from_kube(cls, raw: dict[str, str]) -> Taint:
        return cls(key=raw["key"], value=raw.get("value") or "", effect=raw["effect"])

    def __str__(self) -> str:
        return f"{self.key}{'=' + self.value if self.value else ''}:{self.effect}"


def merge_taints(current: list[Taint], add: list[Taint], remove_keys: list[str]) -> list[Taint]:
    """Taints keyed by (key, effect): ``add`` replaces same key+effect, ``remove_keys`` drop every effect."""
    kept = [t for t in current if t.key not in remove_keys and all((t.key, t.effect) != (a.key, a.effect) for a in add)]
    return kept + list(add)
