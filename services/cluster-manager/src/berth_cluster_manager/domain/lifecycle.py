"""The cluster aggregate: phases, the ordered steps of each operation, and the event timeline.

Pending --create--> Provisioning --last step--> Running
Running --upgrade--> Upgrading --last step--> Running
Running|Failed|Pending --delete--> Deleting --last step--> Deleted
any operation --step fails--> Failed --retry--> (the operation's phase, from the failed step)
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from .addons import AddonStatus
from .errors import DomainError, InvalidTransition
from .spec import ResolvedSpec
from .versions import check_upgrade


class Phase(StrEnum):
    PENDING = "Pending"
    PROVISIONING = "Provisioning"
    RUNNING = "Running"
    UPGRADING = "Upgrading"
    DELETING = "Deleting"
    DELETED = "Deleted"
    FAILED = "Failed"


class OperationKind(StrEnum):
    CREATE = "create"
    UPGRADE = "upgrade"
    DELETE = "delete"


STEPS: dict[OperationKind, tuple[str, ...]] = {
    OperationKind.CREATE: (
        "issue-certificates",
        "provision-etcd",
        "provision-control-plane",
        "wait-control-plane-ready",
        "publish-kubeconfig",
    ),
    # The control plane goes etcd, then kube-apiserver, then controller-manager and scheduler;
    # only then are the node pools asked to follow.
    OperationKind.UPGRADE: (
        "upgrade-etcd",
        "upgrade-kube-apiserver",
        "upgrade-controller-manager-scheduler",
        "upgrade-node-pools",
    ),
    OperationKind.DELETE: ("delete-control-plane", "delete-certificates-and-data"),
}

OPERATION_PHASE: dict[OperationKind, Phase] = {
    OperationKind.CREATE: Phase.PROVISIONING,
    OperationKind.UPGRADE: Phase.UPGRADING,
    OperationKind.DELETE: Phase.DELETING,
}

# Human names for the timeline (the 事件名称 column).
STEP_TITLES: dict[str, str] = {
    "requested": "Cluster creation requested",
    "issue-certificates": "Issue control-plane certificates",
    "provision-etcd": "Provision etcd",
    "provision-control-plane": "Provision kube-apiserver, controller-manager and scheduler",
    "wait-control-plane-ready": "Wait for the control plane to be available",
    "publish-kubeconfig": "Publish the admin kubeconfig",
    "running": "Cluster created",
    "upgrade-etcd": "Upgrade etcd",
    "upgrade-kube-apiserver": "Upgrade kube-apiserver",
    "upgrade-controller-manager-scheduler": "Upgrade kube-controller-manager and kube-scheduler",
    "upgrade-node-pools": "Ask node-manager to upgrade the node pools",
    "upgraded": "Cluster upgraded",
    "delete-control-plane": "Delete the control plane",
    "delete-certificates-and-data": "Delete certificates and data",
    "deleted": "Cluster deleted",
    "retry": "Retry",
}


class TimelineEntry(BaseModel):
    """One row of the cluster's event table: when, which step, its result and a note."""

    time: datetime
    step: str
    result: str  # requested | started | succeeded | failed
    message: str = ""
    operation: str = ""

    @property
    def title(self) -> str:
        return STEP_TITLES.get(self.step, self.step)


class Operation(BaseModel):
    kind: OperationKind
    steps: list[str]
    index: int = 0
    target_version: str | None = None
    started_at: datetime

    @property
    def current(self) -> str | None:
        return self.steps[self.index] if self.index < len(self.steps) else None


class Failure(BaseModel):
    operation: OperationKind
    step: str
    reason: str
    at: datetime


class Cluster(BaseModel):
    """The aggregate the store holds (one document per cluster)."""

    id: str
    tenant: str
    name: str
    spec: ResolvedSpec
    phase: Phase
    version: str | None = None  # what the control plane runs; None until first Running
    operation: Operation | None = None
    failure: Failure | None = None
    ca_rotation: str = "idle"  # idle | started
    created_at: datetime
    updated_at: datetime
    timeline: list[TimelineEntry] = Field(default_factory=list)
    addons: dict[str, AddonStatus] = Field(default_factory=dict)

    # --- construction and (de)serialisation ----------------------------------
    @classmethod
    def request(cls, *, tenant: str, spec: ResolvedSpec, at: datetime, cluster_id: str | None = None) -> Cluster:
        c = cls(
            id=cluster_id or str(uuid.uuid4()),
            tenant=tenant,
            name=spec.name,
            spec=spec,
            phase=Phase.PENDING,
            operation=Operation(kind=OperationKind.CREATE, steps=list(STEPS[OperationKind.CREATE]), started_at=at),
            created_at=at,
            updated_at=at,
        )
        c._note(at, "requested", "requested", f"{spec.provider} cluster, {spec.flavour} nodes, {spec.version}")
        return c

    def to_doc(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Cluster:
        return cls.model_validate(doc)

    # --- queries --------------------------------------------------------------
    @property
    def current_step(self) -> str | None:
        """The step to run next, or None when no operation is in flight (or it failed)."""
        if self.operation is None or self.phase == Phase.FAILED:
            return None
        return self.operation.current

    @property
    def busy(self) -> bool:
        return self.phase in (Phase.PENDING, Phase.PROVISIONING, Phase.UPGRADING, Phase.DELETING)

    # --- transitions ----------------------------------------------------------
    def step_started(self, step: str, *, at: datetime) -> None:
        self._expect_step(step)
        if self.phase == Phase.PENDING:
            self.phase = Phase.PROVISIONING
        self._note(at, step, "started")

    def step_succeeded(self, step: str, *, at: datetime, message: str = "") -> Phase:
        """Record a finished step; returns the phase after it (Running/Deleted after the last)."""
        self._expect_step(step)
        assert self.operation is not None
        self._note(at, step, "succeeded", message)
        self.operation.index += 1
        if self.operation.current is None:
            self._finish(at)
        return self.phase

    def step_failed(self, step: str, *, at: datetime, reason: str) -> None:
        self._expect_step(step)
        assert self.operation is not None
        self._note(at, step, "failed", reason)
        self.failure = Failure(operation=self.operation.kind, step=step, reason=reason, at=at)
        self.phase = Phase.FAILED

    def retry(self, *, at: datetime) -> str:
        """Resume the failed operation from the step that failed; returns that step."""
        if self.phase != Phase.FAILED or self.operation is None or self.failure is None:
            raise InvalidTransition(f"cluster {self.name} is {self.phase}; only a Failed cluster can be retried")
        step = self.failure.step
        self.phase = OPERATION_PHASE[self.operation.kind]
        self._note(at, "retry", "started", f"resuming {self.operation.kind} at {step}")
        self.failure = None
        return step

    def start_upgrade(self, target: str, *, at: datetime) -> None:
        if self.phase != Phase.RUNNING or self.version is None:
            raise InvalidTransition(f"cluster {self.name} is {self.phase}; only a Running cluster can be upgraded")
        check_upgrade(self.version, target)
        self.operation = Operation(
            kind=OperationKind.UPGRADE,
            steps=list(STEPS[OperationKind.UPGRADE]),
            target_version=target,
            started_at=at,
        )
        self.phase = Phase.UPGRADING
        self._note(at, "upgrade", "started", f"{self.version} -> {target}")

    def start_delete(self, *, at: datetime) -> None:
        if self.phase in (Phase.DELETING, Phase.DELETED):
            raise InvalidTransition(f"cluster {self.name} is already {self.phase}")
        if self.phase in (Phase.PROVISIONING, Phase.UPGRADING):
            raise InvalidTransition(f"cluster {self.name} is {self.phase}; wait for it to finish or fail")
        self.operation = Operation(kind=OperationKind.DELETE, steps=list(STEPS[OperationKind.DELETE]), started_at=at)
        self.failure = None
        self.phase = Phase.DELETING
        self._note(at, "delete", "started")

    def start_ca_rotation(self, *, at: datetime) -> None:
        if self.phase != Phase.RUNNING:
            raise InvalidTransition(f"cluster {self.name} is {self.phase}; CA rotation needs a Running cluster")
        if self.ca_rotation == "started":
            raise InvalidTransition(f"cluster {self.name}: a CA rotation is already in progress")
        self.ca_rotation = "started"
        self._note(at, "ca-rotation", "started", "new CA trusted beside the old one; leaves re-issued")

    def complete_ca_rotation(self, *, at: datetime) -> None:
        if self.ca_rotation != "started":
            raise InvalidTransition(f"cluster {self.name}: no CA rotation is in progress; start one first")
        self.ca_rotation = "idle"
        self._note(at, "ca-rotation", "succeeded", "old CA removed from the trust bundle")

    def require_running(self, what: str) -> None:
        if self.phase not in (Phase.RUNNING, Phase.UPGRADING):
            raise InvalidTransition(f"cluster {self.name} is {self.phase}; {what} needs a Running cluster")

    def set_addon(self, name: str, *, status: str, at: datetime, version: str = "", message: str = "") -> None:
        """Record an addon's status and its timeline row (插件安装)."""
        self.addons[name] = AddonStatus(name=name, status=status, version=version, message=message, updated_at=at)
        result = {"installed": "succeeded", "uninstalled": "succeeded", "failed": "failed"}.get(status, "started")
        self._note(at, f"addon-{name}", result, message or f"{status} {version}".strip())

    def note(self, *, at: datetime, step: str, result: str, message: str = "") -> None:
        """Record a timeline row that is not an operation step (cert renewal, addon, namespace)."""
        self._note(at, step, result, message)

    # --- internals ------------------------------------------------------------
    def _finish(self, at: datetime) -> None:
        assert self.operation is not None
        kind = self.operation.kind
        if kind == OperationKind.CREATE:
            self.version = self.spec.version
            self.phase = Phase.RUNNING
            self._note(at, "running", "succeeded")
        elif kind == OperationKind.UPGRADE:
            self.version = self.operation.target_version
            self.spec = self.spec.model_copy(update={"version": self.version})
            self.phase = Phase.RUNNING
            self._note(at, "upgraded", "succeeded", f"now {self.version}")
        else:
            self.phase = Phase.DELETED
            self._note(at, "deleted", "succeeded")
        self.operation = None

    def _expect_step(self, step: str) -> None:
        if self.current_step != step:
            raise InvalidTransition(
                f"cluster {self.name}: step {step!r} is not the current step "
                f"({self.current_step!r}, phase {self.phase})"
            )

    def _note(self, at: datetime, step: str, result: str, message: str = "") -> None:
        self.updated_at = at
        kind = self.operation.kind.value if self.operation else ""
        self.timeline.append(TimelineEntry(time=at, step=step, result=result, message=message, operation=kind))


def require_found(cluster: Cluster | None, name: str) -> Cluster:
    if cluster is None or cluster.phase == Phase.DELETED:
        raise DomainError(f"cluster {name} not found")
    return cluster
