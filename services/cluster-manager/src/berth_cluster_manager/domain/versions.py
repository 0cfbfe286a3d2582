"""Supported Kubernetes versions and the upgrade rule (one minor at a time, never down)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering

from .errors import DomainError

# Newest last. The local provider needs binaries of the version it runs
# (``~/.cache/berth/parts/kube-<version>``); the hosted provider only needs images.
SUPPORTED_VERSIONS: tuple[str, ...] = ("v1.33.7", "v1.34.3", "v1.35.2", "v1.36.3")
DEFAULT_VERSION = "v1.36.3"

# The etcd release each Kubernetes minor runs with (as kubeadm pins it).
ETCD_FOR_MINOR: dict[int, str] = {33: "3.5.21", 34: "3.6.4", 35: "3.6.5", 36: "3.6.16"}

_VERSION = re.compile(r"^v(\d+)\.(\d+)\.(\d+)$")


@total_ordering
@dataclass(frozen=True, slots=True)
class KubeVersion:
    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> KubeVersion:
        m = _VERSION.match(text)
        if not m:
            raise DomainError(f"{text!r} is not a Kubernetes version like v1.36.3")
        return cls(int(m.group(1)), int(m.group(2)), int(m.group(3)))

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, KubeVersion):
            return NotImplemented
        return (self.major, self.minor, self.patch) < (other.major, other.minor, other.patch)

    def __str__(self) -> str:
        return f"v{self.major}.{self.minor}.{self.patch}"


def is_supported(version: str) -> bool:
    return version in SUPPORTED_VERSIONS


def etcd_version(version: str) -> str:
    v = KubeVersion.parse(version)
    return ETCD_FOR_MINOR.get(v.minor, ETCD_FOR_MINOR[max(ETCD_FOR_MINOR)])


def check_upgrade(current: str, target: str) -> None:
    """Raise DomainError unless ``target`` is a supported step up from ``current``:
    a newer patch of the same minor or the next minor, never a downgrade or a skip."""
    if not is_supported(target):
        raise DomainError(f"version: {target} is not supported; supported: {', '.join(SUPPORTED_VERSIONS)}")
    cur, tgt = KubeVersion.parse(current), KubeVersion.parse(target)
    if tgt == cur:
        raise DomainError(f"version: the cluster already runs {current}")
    if tgt < cur:
        raise DomainError(f"version: {target} is older than {current}; downgrades are not allowed")
    if tgt.major != cur.major or tgt.minor > cur.minor + 1:
        raise DomainError(
            f"version: {current} -> {target} skips a minor version; upgrade one minor at a time "
            f"(next: v{cur.major}.{cur.minor + 1}.x)"
        )


def next_versions(current: str) -> list[str]:
    """The versions ``current`` may upgrade to (what the console offers)."""
    out = []
    for v in SUPPORTED_VERSIONS:
        try:
            check_upgrade(current, v)
        except DomainError:
            continue
        out.append(v)
    return out
