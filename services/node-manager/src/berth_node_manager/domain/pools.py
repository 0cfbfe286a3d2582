"""Node pools: flavour, count, zone, labels, taints, max pods, autoscaling bounds, upgrade strategy,
and the best-practice defaults every node of a pool gets."""

from __future__ import annotations

import ipaddress
import secrets
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from berth_schema.node.labels import (
    CLUSTER_LABEL,
    FLAVOUR_LABEL,
    POOL_LABEL,
    ROLE_LABEL_PREFIX,
    VERSION_LABEL,
    ZONE_LABEL,
    Taint,
)
from berth_schema.node.pools import (
    EVICTION_HARD_MEMORY_GIB as EVICTION_HARD_MEMORY_GIB,
)
from berth_schema.node.pools import (
    ROLE_TAINTS as ROLE_TAINTS,
)
from berth_schema.node.pools import (
    Autoscaling as Autoscaling,
)
from berth_schema.node.pools import (
    Flavour as Flavour,
)
from berth_schema.node.pools import (
    PoolSpec as PoolSpec,
)
from berth_schema.node.pools import (
    Role as Role,
)
from berth_schema.node.pools import (
    UpgradeStrategy as UpgradeStrategy,
)
from berth_schema.node.queries import PoolDetail
from pydantic import ConfigDict


class NodePool(PoolDetail):
    """A pool as stored: the spec plus the cluster it belongs to and the version its nodes run (the
    fields of the get-pool reply), and what node-manager derives from it."""

    model_config = ConfigDict(extra="ignore")

    def detail(self) -> PoolDetail:
        return PoolDetail.model_validate(self.model_dump())

    @property
    def key(self) -> str:
        return pool_key(self.cluster, self.name)

    def node_labels(self) -> dict[str, str]:
        """Multi-dimension labels (zone, pool, flavour, role) on top of the user's labels."""
        labels = dict(self.labels)
        labels.update(
            {
                ZONE_LABEL: self.zone,
                POOL_LABEL: self.name,
                FLAVOUR_LABEL: self.flavour.name,
                CLUSTER_LABEL: self.cluster,
            }
        )
        if self.version:
            labels[VERSION_LABEL] = self.version
        if self.role != "worker":
            labels[ROLE_LABEL_PREFIX + self.role] = ""
        return labels

    def node_taints(self) -> list[Taint]:
        """The role's default taints, then the user's (a user taint with the same key+effect wins)."""
        user = {(t.key, t.effect) for t in self.taints}
        return [t for t in ROLE_TAINTS[self.role] if (t.key, t.effect) not in user] + list(self.taints)

    def bounds(self) -> tuple[int, int]:
        return (self.autoscaling.min_count, self.autoscaling.max_count) if self.autoscaling.enabled else (0, 1000)


def pool_key(cluster: str, pool: str) -> str:
    return f"{cluster}/{pool}"


@dataclass(frozen=True, slots=True)
class ScaleResult:
    before: int
    after: int
    clamped: bool
    reason: str


def scale_target(pool: NodePool, *, replicas: int | None, delta: int | None) -> ScaleResult:
    """The new count for a scale request; clamped to the autoscaling bounds, never below zero."""
    if (replicas is None) == (delta is None):
        raise ValueError("exactly one of replicas or delta must be given")
    wanted = replicas if replicas is not None else pool.count + (delta or 0)
    if replicas is not None and replicas < 0:
        raise ValueError(f"replicas: must be >= 0, got {replicas}")
    lo, hi = pool.bounds()
    after = min(max(wanted, lo), hi)
    clamped = after != wanted
    reason = f"clamped {wanted} to bounds {lo}..{hi}" if clamped else f"{pool.count} -> {after}"
    return ScaleResult(before=pool.count, after=after, clamped=clamped, reason=reason)


_SUFFIX_ALPHABET = string.ascii_lowercase + string.digits


def random_suffix(length: int = 5) -> str:
    return "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(length))


def new_node_name(pool: NodePool, existing: Iterable[str], *, suffix: Callable[[], str] = random_suffix) -> str:
    """``<cluster>-<pool>-<5 chars>``, like the seed's test-cluster-26949-cps16; never an existing name."""
    taken = set(existing)
    for _ in range(100):
        name = f"{pool.cluster}-{pool.name}-{suffix()}"[:253]
        if name not in taken:
            return name
    raise RuntimeError(f"could not find a free node name in pool {pool.key}")


def allocate_ip(cidr: str, used: Iterable[str]) -> str:
    """The first free host address of the cluster's node subnet (the seed's 192.168.1.0/24)."""
    net = ipaddress.ip_network(cidr, strict=False)
    taken = set(used)
    for host in net.hosts():
        # .1 is the subnet's gateway by convention
        if host == net.network_address + 1:
            continue
        if str(host) not in taken:
            return str(host)
    raise ValueError(f"node subnet {cidr} has no free address left")
