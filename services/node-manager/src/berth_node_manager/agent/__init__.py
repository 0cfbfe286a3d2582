"""The node side of joining a cluster (``berth node join``): discovery of the cluster's CA pinned
by hash, kubelet TLS bootstrap with a bootstrap token, and node registration with heartbeats."""

from .discovery import ClusterInfo, JoinError, discover, parse_token
from .node import NodeAgent, NodeIdentity
from .tls_bootstrap import bootstrap_client_certificate

__all__ = [
    "ClusterInfo",
    "JoinError",
    "NodeAgent",
    "NodeIdentity",
    "bootstrap_client_certificate",
    "discover",
    "parse_token",
]
