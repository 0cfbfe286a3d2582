"""The collections cluster-manager owns, their keys, and envelope helpers."""

from __future__ import annotations

from typing import Any

from berth_common.events import Envelope, registry
from pydantic import BaseModel

CLUSTERS = "clusters"
NAMESPACES = "cluster_namespaces"
TENANT_LIMITS = "tenant_limits"
TENANT_NODES = "tenant_nodes"  # one record per node node-manager reported, to count against the nodes limit
JOIN_TOKENS = "join_tokens"  # issue/revoke records (ids and expiry, never the secret)
USER_KUBECONFIGS = "user_kubeconfigs"  # one per person holding access to a cluster (never the token)
KUBECONFIG_LOG = "kubeconfig_log"  # append-only: admin kubeconfigs released to people, revocations without a record
COLLECTIONS = [CLUSTERS, NAMESPACES, TENANT_LIMITS, TENANT_NODES, JOIN_TOKENS, USER_KUBECONFIGS, KUBECONFIG_LOG]

SOURCE = "/berth/cluster-manager"


def cluster_key(tenant: str, name: str) -> str:
    return f"{tenant}/{name}"


def namespace_key(tenant: str, cluster: str, namespace: str) -> str:
    return f"{tenant}/{cluster}/{namespace}"


def user_access_key(tenant: str, cluster: str, service_account: str) -> str:
    return f"{tenant}/{cluster}/{service_account}"


def envelope(payload: BaseModel, *, tenant: str, subject: str, cause: Envelope | None = None, **attrs: Any) -> Envelope:
    """An envelope of ``payload``, caused by ``cause`` when there is one."""
    caused = cause.caused() if cause is not None else {"tenant": tenant}
    caused["tenant"] = tenant
    return registry.envelope(payload, source=SOURCE, subject=subject, **caused, **attrs)
