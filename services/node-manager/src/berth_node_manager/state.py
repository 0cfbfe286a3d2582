"""node-manager's collections and how their records are read."""

from __future__ import annotations

from typing import Any

import yaml
from berth_common.sealing import SealerSlot
from berth_common.store import Store

from .domain.pools import NodePool, pool_key

CLUSTERS = "clusters"  # kubeconfig registry: how to reach each tenant cluster
POOLS = "pools"  # key <cluster>/<pool>
OPERATIONS = "operations"  # one record per handled command (its result and the facts it caused)
AUTOSCALER = "autoscaler"  # key <cluster>: autoscaler state (cool-downs) and health-repair notes
JOIN_TOKENS = "join_tokens"  # key <cluster>/<token id>: the pool a token was issued for (never the secret)
COLLECTIONS = [CLUSTERS, POOLS, OPERATIONS, AUTOSCALER, JOIN_TOKENS]


SEALER = SealerSlot("node-manager")  # tenant kubeconfigs hold admin client keys: kept sealed


def seal_kubeconfig(text: str) -> str:
    return SEALER.get().seal(text)


class Unknown(LookupError):
    """A cluster, pool or node node-manager does not know."""


def server_of(kubeconfig: dict[str, Any]) -> str:
    clusters = kubeconfig.get("clusters") or [{}]
    return str((clusters[0].get("cluster") or {}).get("server", ""))


def kubeconfig_server(text: str) -> str:
    data = yaml.safe_load(text)
    return server_of(data) if isinstance(data, dict) else ""


async def load_cluster(store: Store, cluster: str, *, tenant: str | None = None) -> dict[str, Any]:
    rec = await store.collection(CLUSTERS).get(cluster)
    if rec is None or (tenant is not None and rec.data["tenant"] != tenant):
        raise Unknown(f"cluster {cluster} is not registered with node-manager")
    return {**rec.data, "kubeconfig": SEALER.get().unseal(rec.data["kubeconfig"])}


async def load_pool(store: Store, cluster: str, pool: str) -> tuple[NodePool, int]:
    rec = await store.collection(POOLS).get(pool_key(cluster, pool))
    if rec is None:
        raise Unknown(f"node pool {pool} not found in cluster {cluster}")
    return NodePool.model_validate(rec.data), rec.version


async def cluster_pools(store: Store, cluster: str) -> list[NodePool]:
    recs = await store.collection(POOLS).list(where={"cluster": cluster}, limit=1000)
    return sorted((NodePool.model_validate(r.data) for r in recs), key=lambda p: p.name)


async def token_pools(store: Store, cluster: str) -> dict[str, str]:
    """token id -> pool, for the join tokens node-manager asked for in ``cluster``."""
    recs = await store.collection(JOIN_TOKENS).list(where={"cluster": cluster}, limit=10000)
    return {r.data["token_id"]: r.data["pool"] for r in recs}
