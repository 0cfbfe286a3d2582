"""Who publishes and who consumes each subject, declared here rather than discovered by importing
services (an image holds one service). A suite test checks each service's real wiring against
this declaration, so the two cannot drift."""

from __future__ import annotations

from typing import Final

GATEWAY: Final = "gateway"
SERVICES: Final = (
    "cluster-manager",
    "node-manager",
    "registry-sync",
    "release-orchestrator",
    "monitor-alert",
    "dr-switcher",
)

# The service that publishes a domain's facts (berth.evt.<domain>.*) and answers its queries.
DOMAIN_OWNERS: Final[dict[str, str]] = {
    "cluster": "cluster-manager",
    "node": "node-manager",
    "registry": "registry-sync",
    "release": "release-orchestrator",
    "alert": "monitor-alert",
    "dr": "dr-switcher",
}

# Commands a service sends to another service (the gateway may send every command).
SENDS: Final[dict[str, tuple[str, ...]]] = {
    "cluster-manager": ("berth.cmd.node-manager.register-cluster", "berth.cmd.node-manager.upgrade-pools"),
    "monitor-alert": ("berth.cmd.node-manager.scale-pool", "berth.cmd.release-orchestrator.scale-workload"),
}

# Facts a service consumes from another domain (each service consumes all of its own commands).
CONSUMES_FACTS: Final[dict[str, tuple[str, ...]]] = {
    "cluster-manager": ("berth.evt.node.added", "berth.evt.node.removed"),
}

# Queries a service asks of another service (the gateway may ask every query).
ASKS: Final[dict[str, tuple[str, ...]]] = {
    "node-manager": (
        "cluster-manager.get-kubeconfig",
        "cluster-manager.issue-join-token",
        "cluster-manager.check-node-quota",
    ),
    "release-orchestrator": ("cluster-manager.get-kubeconfig",),
}


def owner_of_subject(subject: str) -> str:
    """The service that owns a ``berth.evt.<domain>.*`` or ``berth.cmd.<service>.*`` subject."""
    kind, _, rest = subject.removeprefix("berth.").partition(".")
    head = rest.split(".", 1)[0]
    if kind == "evt":
        return DOMAIN_OWNERS[head]
    return head


def publishers(subject: str, kind: str) -> list[str]:
    if kind == "event":
        return [owner_of_subject(subject)]
    senders = sorted(svc for svc, subjects in SENDS.items() if subject in subjects)
    return [GATEWAY, *senders]


def consumers(subject: str, kind: str) -> list[str]:
    if kind == "command":
        return [owner_of_subject(subject)]
    return sorted(svc for svc, subjects in CONSUMES_FACTS.items() if subject in subjects)


def askers(service: str, op: str) -> list[str]:
    return [GATEWAY, *sorted(svc for svc, ops in ASKS.items() if f"{service}.{op}" in ops)]
