"""Nodes that join with a token: the ``join-command`` query (a token from cluster-manager for one
pool, and the command to run on the machine) and the adoption step the node loops run."""

from __future__ import annotations

import base64
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml
from berth_common.bus import QueryError
from berth_common.store.unit_of_work import update
from berth_schema.cluster import IssueJoinToken, JoinTokenGrant
from berth_schema.cluster.queries import DEFAULT_JOIN_TTL
from berth_schema.node import NodeAdded
from berth_schema.node.queries import GetJoinCommand, JoinCommand

from .app import app
from .domain.joining import bootstrap_kubeconfig, join_command
from .runtime import envelope, ops_for, record
from .state import JOIN_TOKENS, POOLS, Unknown, cluster_pools, load_cluster, load_pool, token_pools

log = logging.getLogger(__name__)
ISSUE_TIMEOUT = 30.0
FORGET_AFTER = timedelta(hours=1)


@app.query(GetJoinCommand)
async def join_command_query(req: GetJoinCommand) -> JoinCommand:
    """A join token for one pool (issued by cluster-manager) and how to use it: ``command`` for
    ``berth node join``, ``bootstrap_kubeconfig`` for a kubelet doing its own TLS bootstrap."""
    try:
        data = await load_cluster(app.store, req.cluster, tenant=req.tenant)
        pool, _ = await load_pool(app.store, req.cluster, req.pool)
    except Unknown as exc:
        raise QueryError(404, str(exc)) from None
    ask = IssueJoinToken(
        tenant=data["tenant"],
        cluster=req.cluster,
        ttl_seconds=DEFAULT_JOIN_TTL if req.ttl_seconds is None else req.ttl_seconds,
        description=f"berth node-manager: join node pool {pool.name}",
    )
    issued: JoinTokenGrant = await app.bus.ask(ask, timeout=ISSUE_TIMEOUT)
    await app.store.collection(JOIN_TOKENS).create(
        f"{req.cluster}/{issued.token_id}",
        {
            "cluster": req.cluster,
            "tenant": data["tenant"],
            "pool": pool.name,
            "token_id": issued.token_id,
            "expires": issued.expires,
        },
    )
    ca_pem = _ca_of(data["kubeconfig"])
    return JoinCommand(
        cluster=req.cluster,
        pool=pool.name,
        token_id=issued.token_id,
        token=issued.token,
        expires=issued.expires,
        server=issued.server,
        ca_cert_hash=issued.ca_cert_hash,
        command=join_command(server=issued.server, token=issued.token, ca_cert_hash=issued.ca_cert_hash, pool=pool),
        bootstrap_kubeconfig=yaml.safe_dump(
            bootstrap_kubeconfig(server=issued.server, token=issued.token, ca_pem=ca_pem)
        ),
    )


async def _forget_expired_tokens(cluster: str) -> None:
    """A token's record outlives it by the hour the controller-manager keeps its CSRs: after that no
    node can still be adopted by it."""
    horizon = datetime.now(UTC) - FORGET_AFTER
    col = app.store.collection(JOIN_TOKENS)
    for rec in await col.list(where={"cluster": cluster}, limit=10000):
        if datetime.fromisoformat(rec.data["expires"]) < horizon:
            await col.delete(rec.key)


def _ca_of(kubeconfig: str) -> bytes:
    cluster = yaml.safe_load(kubeconfig)["clusters"][0]["cluster"]
    return base64.b64decode(cluster.get("certificate-authority-data", ""))


async def adopt_step(cluster: str) -> list[NodeAdded]:
    """Adopt nodes that joined with a token issued for one of the cluster's pools; raise the pool's
    count to cover them (so scaling does not take them straight out again) and record each."""
    await _forget_expired_tokens(cluster)
    tokens = await token_pools(app.store, cluster)
    if not tokens:
        return []
    pools = {p.name: p for p in await cluster_pools(app.store, cluster)}
    ops = await ops_for(app.store, cluster)
    facts: list[NodeAdded] = []
    # labels and taints, then the count and the fact (recorded once per node and token), then the
    # mark: a crash anywhere in between only makes the next pass do it again
    for a in await ops.joined_to_adopt(pools, tokens):
        pool = pools[a.pool]
        await ops.give_pool_defaults(a.node, pool)
        present = len(await ops.pool_nodes(pool.name))

        def mutate(doc: dict[str, Any], present: int = present) -> None:
            doc["count"] = max(int(doc["count"]), present)

        await update(app.store.collection(POOLS), pool.key, mutate, caused_by=None)
        fact = NodeAdded(cluster=cluster, tenant=pool.tenant, pool=pool.name, node=a.node, source="joined")
        await record(
            f"join-{cluster}-{a.node}-{a.token_id}",
            "join",
            {"cluster": cluster, "pool": pool.name, "node": a.node, "token_id": a.token_id},
            [envelope(fact, subject=f"clusters/{cluster}/nodepools/{pool.name}", tenant=pool.tenant)],
            caused_by=None,
        )
        await ops.mark_joined(a)
        log.info("node joined", extra={"cluster": cluster, "pool": pool.name, "node": a.node})
        facts.append(fact)
    return facts
