"""People's kubeconfigs on the query API (request/reply, so a token goes to the asker alone and
never into a stream): issue, list, revoke. Each issue and revoke leaves a fact on the audit trail."""

from __future__ import annotations

import logging
from typing import Any

from berth_common.bus import QueryError
from berth_common.store import AlreadyExists, Conflict
from berth_schema.cluster import (
    IssueUserKubeconfig,
    ListUserKubeconfigs,
    RevokedUserKubeconfig,
    RevokeUserKubeconfig,
    UserKubeconfig,
    UserKubeconfigIssued,
    UserKubeconfigList,
    UserKubeconfigRevoked,
    UserKubeconfigRow,
)
from pydantic import BaseModel

from . import access, join
from .app import app
from .deps import cluster_subject, log_fact, tenant_api, wiring
from .domain.addons import CATALOGUE
from .domain.lifecycle import Cluster, Phase
from .operations import now, ref_of
from .queries import cluster_or_404
from .state import USER_KUBECONFIGS, envelope, user_access_key

log = logging.getLogger(__name__)
ADDON_NAMESPACES = frozenset(a.namespace for a in CATALOGUE.values())


def _reachable(c: Cluster) -> None:
    if c.phase not in (Phase.RUNNING, Phase.UPGRADING):
        raise QueryError(409, f"cluster {c.name} is {c.phase}; access is granted once it is Running")


def _enforced(c: Cluster, role: str) -> None:
    if not c.spec.rbac and role not in access.ADMIN_ROLES:
        raise QueryError(
            409, f"cluster {c.name} runs without RBAC (AlwaysAllow): it cannot hold a {role} to their role"
        )


async def _upsert(key: str, data: dict[str, Any], fact: BaseModel, c: Cluster) -> None:
    col = app.store.collection(USER_KUBECONFIGS)
    events = [envelope(fact, tenant=c.tenant, subject=cluster_subject(c.name))]
    rec = await col.get(key)
    try:
        if rec is None:
            await col.create(key, data, events=events)
        else:
            await col.replace(key, data, expected_version=rec.version, events=events)
    except (AlreadyExists, Conflict):
        # the kubeconfig was issued; only its record raced another issue for the same person
        raise QueryError(409, "another kubeconfig was issued for this user at the same time; ask again") from None
    app.wake_relay()


@app.query(IssueUserKubeconfig)
async def issue_user_kubeconfig(req: IssueUserKubeconfig) -> UserKubeconfig:
    """A kubeconfig with the caller's own identity and the rights of ``role`` alone."""
    c = await cluster_or_404(req)
    _reachable(c)
    _enforced(c, req.role)
    provider = wiring.provider_for(c)
    _, ca_pem = join.admin_access(await provider.admin_kubeconfig(ref_of(c)))
    server = await provider.join_server(ref_of(c))
    api = await tenant_api(c)
    try:
        issued = await access.grant(
            api,
            user=req.user,
            role=req.role,
            requested=list(req.namespaces),
            seconds=req.ttl_seconds,
            system=ADDON_NAMESPACES,
        )
    except access.AccessRefused as exc:
        raise QueryError(exc.code, str(exc)) from None
    finally:
        await api.close()
    issued_at = now().replace(microsecond=0)
    namespaces = list(issued.grant.namespaces)
    fact = UserKubeconfigIssued(
        cluster=c.name,
        cluster_id=c.id,
        credential_id=issued.credential_id,
        user=req.user,
        role=req.role,
        namespaces=namespaces,
        service_account=issued.service_account,
        expires_at=issued.expires_at.isoformat(),
        by=req.by,
    )
    record = {
        "tenant": c.tenant,
        "cluster": c.name,
        "cluster_id": c.id,
        "user": req.user,
        "role": req.role,
        "namespaces": namespaces,
        "service_account": issued.service_account,
        "credential_id": issued.credential_id,
        "issued_at": issued_at.isoformat(),
        "expires_at": issued.expires_at.isoformat(),
        "by": req.by,
    }
    await _upsert(user_access_key(c.tenant, c.name, issued.service_account), record, fact, c)
    log.info(
        "user kubeconfig issued",
        extra={"cluster": c.name, "user": req.user, "role": req.role, "credential_id": issued.credential_id},
    )
    return UserKubeconfig(
        cluster=c.name,
        user=req.user,
        role=req.role,
        namespaces=namespaces,
        service_account=issued.service_account,
        credential_id=issued.credential_id,
        issued_at=issued_at,
        expires_at=issued.expires_at,
        kubeconfig=access.render_kubeconfig(
            cluster=c.name,
            server=server,
            ca_pem=ca_pem,
            user=req.user,
            token=issued.token,
            namespace=namespaces[0] if namespaces else None,
        ),
    )


@app.query(ListUserKubeconfigs)
async def list_user_kubeconfigs(req: ListUserKubeconfigs) -> UserKubeconfigList:
    c = await cluster_or_404(req)
    where: dict[str, Any] = {"tenant": c.tenant, "cluster": c.name, "cluster_id": c.id}
    if req.user is not None:
        where["user"] = req.user
    after = user_access_key(c.tenant, c.name, req.after) if req.after else None
    recs = await app.store.collection(USER_KUBECONFIGS).list(where=where, after=after, limit=req.limit)
    at = now()
    rows = []
    for r in recs:
        d = r.data
        row = UserKubeconfigRow(
            user=d["user"],
            role=d["role"],
            namespaces=d["namespaces"],
            service_account=d["service_account"],
            credential_id=d["credential_id"],
            issued_at=d["issued_at"],
            expires_at=d["expires_at"],
            expired=False,
        )
        rows.append(row.model_copy(update={"expired": row.expires_at <= at}))
    return UserKubeconfigList(items=rows)


@app.query(RevokeUserKubeconfig)
async def revoke_user_kubeconfig(req: RevokeUserKubeconfig) -> RevokedUserKubeconfig:
    c = await cluster_or_404(req)
    _reachable(c)
    sa = access.service_account_name(req.user)
    api = await tenant_api(c)
    try:
        gone = await access.revoke(api, req.user)
    finally:
        await api.close()
    col = app.store.collection(USER_KUBECONFIGS)
    key = user_access_key(c.tenant, c.name, sa)
    rec = await col.get(key)
    if rec is None and not gone:
        raise QueryError(404, f"user {req.user} holds no kubeconfig of cluster {c.name}")
    held = rec.data if rec is not None else {}
    fact = UserKubeconfigRevoked(
        cluster=c.name,
        cluster_id=c.id,
        user=req.user,
        role=held.get("role", ""),
        service_account=sa,
        credential_id=held.get("credential_id", ""),
        expires_at=held.get("expires_at", ""),
        by=req.by,
    )
    if rec is not None:
        await col.delete(key, events=[envelope(fact, tenant=c.tenant, subject=cluster_subject(c.name))])
        app.wake_relay()
    else:  # the cluster held an account Berth had no record of: still on the audit trail
        await log_fact(c, fact)
    log.info("user kubeconfig revoked", extra={"cluster": c.name, "user": req.user})
    return RevokedUserKubeconfig(cluster=c.name, user=req.user, service_account=sa, revoked=True)
