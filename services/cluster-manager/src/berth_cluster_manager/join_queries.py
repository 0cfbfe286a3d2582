"""Join tokens on the query API (request/reply, so a token's secret half goes to the asker alone
and is never written to a stream): issue, list, revoke. Each issue and revoke leaves a fact."""

from __future__ import annotations

import logging
from typing import Any

from berth_common.bus import QueryError
from berth_common.ca_pin import ca_cert_hash
from berth_common.events import new_id
from berth_schema.cluster import (
    IssueJoinToken,
    JoinTokenGrant,
    JoinTokenIssued,
    JoinTokenList,
    JoinTokenRevoked,
    JoinTokenRow,
    ListJoinTokens,
    RevokedJoinToken,
    RevokeJoinToken,
)

from . import join
from .app import app
from .deps import cluster_subject, tenant_api, wiring
from .domain.lifecycle import Cluster, Phase
from .operations import now, ref_of
from .queries import cluster_or_404
from .state import JOIN_TOKENS, envelope

log = logging.getLogger(__name__)


def _joinable(c: Cluster) -> None:
    if c.phase not in (Phase.RUNNING, Phase.UPGRADING):
        raise QueryError(409, f"cluster {c.name} is {c.phase}; nodes can join once it is Running")
    if not c.spec.x509_auth:
        raise QueryError(
            409, f"cluster {c.name} has X.509 authentication off: joined nodes could not use their certificates"
        )


async def _record(c: Cluster, key: str, data: dict[str, Any], fact: Any) -> None:
    await app.store.collection(JOIN_TOKENS).create(
        key,
        {"tenant": c.tenant, "cluster": c.name, **data},
        events=[envelope(fact, tenant=c.tenant, subject=cluster_subject(c.name))],
    )
    app.wake_relay()


@app.query(IssueJoinToken)
async def issue_join_token(req: IssueJoinToken) -> JoinTokenGrant:
    """A bootstrap token for nodes to join ``cluster``; the reply carries the secret, the API
    server address and the CA pin a joining node checks."""
    c = await cluster_or_404(req)
    _joinable(c)
    try:
        ttl = join.check_ttl(req.ttl_seconds)
    except ValueError as exc:
        raise QueryError(400, str(exc)) from None
    description = req.description
    provider = wiring.provider_for(c)
    _, ca_pem = join.admin_access(await provider.admin_kubeconfig(ref_of(c)))
    server = await provider.join_server(ref_of(c))
    expires = now().replace(microsecond=0) + ttl
    api = await tenant_api(c)
    try:
        token = await join.issue(api, server=server, ca_pem=ca_pem, expires=expires, description=description)
    finally:
        await api.close()
    fact = JoinTokenIssued(
        cluster=c.name, cluster_id=c.id, token_id=token.token_id, expires=expires.isoformat(), description=description
    )
    await _record(
        c,
        f"{c.tenant}/{c.name}/issued/{token.token_id}",
        {"token_id": token.token_id, "expires": expires.isoformat(), "description": description},
        fact,
    )
    log.info("join token issued", extra={"cluster": c.name, "token_id": token.token_id})
    return JoinTokenGrant(
        cluster=c.name,
        token_id=token.token_id,
        token=token.token,
        expires=expires.isoformat(),
        server=server,
        ca_cert_hash=ca_cert_hash(ca_pem),
        description=description,
    )


@app.query(ListJoinTokens)
async def list_join_tokens(req: ListJoinTokens) -> JoinTokenList:
    c = await cluster_or_404(req)
    _joinable(c)
    api = await tenant_api(c)
    try:
        tokens = await join.list_tokens(api)
    finally:
        await api.close()
    return JoinTokenList(
        items=[
            JoinTokenRow(
                token_id=t.token_id, expires=t.expires.isoformat() if t.expires else "", description=t.description
            )
            for t in tokens
        ]
    )


@app.query(RevokeJoinToken)
async def revoke_join_token(req: RevokeJoinToken) -> RevokedJoinToken:
    c = await cluster_or_404(req)
    _joinable(c)
    token_id = req.token_id
    api = await tenant_api(c)
    try:
        gone = await join.revoke(api, token_id)
    finally:
        await api.close()
    if not gone:
        raise QueryError(404, f"join token {token_id} not found in cluster {c.name} (expired tokens are deleted)")
    await _record(
        c,
        f"{c.tenant}/{c.name}/revoked/{token_id}-{new_id()[:8]}",
        {"token_id": token_id},
        JoinTokenRevoked(cluster=c.name, cluster_id=c.id, token_id=token_id),
    )
    return RevokedJoinToken(cluster=c.name, token_id=token_id, revoked=True)
