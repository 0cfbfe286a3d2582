"""Facts registry-sync publishes (``berth.evt.registry.*``) and commands it accepts
(``berth.cmd.registry-sync.*``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from berth_common.events import command, event
from pydantic import BaseModel, Field

from .dr import DrPairSpec
from .names import NAME, TENANT
from .policies import PolicySpec
from .registries import RegistrySpec


# --- commands -------------------------------------------------------------------------
@command("berth.cmd.registry-sync.put-registry.v1", service="registry-sync", verb="put-registry")
class PutRegistry(BaseModel):
    """Create or replace a registry. The password travels once, here, and is then kept as a secret;
    omit it to keep the stored one."""

    registry: RegistrySpec


@command("berth.cmd.registry-sync.delete-registry.v1", service="registry-sync", verb="delete-registry")
class DeleteRegistry(BaseModel):
    tenant: str = TENANT
    name: str = NAME


@command("berth.cmd.registry-sync.put-policy.v1", service="registry-sync", verb="put-policy")
class PutPolicy(BaseModel):
    policy: PolicySpec


@command("berth.cmd.registry-sync.delete-policy.v1", service="registry-sync", verb="delete-policy")
class DeletePolicy(BaseModel):
    tenant: str = TENANT
    name: str = NAME


@command("berth.cmd.registry-sync.run-policy.v1", service="registry-sync", verb="run-policy")
class RunPolicy(BaseModel):
    """Run a policy now. ``only`` narrows the run to repository:tag pairs (webhook pushes)."""

    tenant: str = TENANT
    policy: str = NAME
    trigger: Literal["manual", "cron", "webhook", "reconcile", "dr"] = "manual"
    dry_run: bool | None = None
    only: list[tuple[str, str]] | None = Field(default=None, max_length=10_000)
    execution_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


@command("berth.cmd.registry-sync.retry-execution.v1", service="registry-sync", verb="retry-execution")
class RetryExecution(BaseModel):
    """Run again the failed tasks of an execution, as a new execution."""

    tenant: str = TENANT
    execution: str = Field(min_length=1, max_length=64)
    execution_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


@command("berth.cmd.registry-sync.ingest-webhook.v1", service="registry-sync", verb="ingest-webhook")
class IngestWebhook(BaseModel):
    """A registry notification as the gateway received it on /hooks/registry."""

    tenant: str = TENANT
    registry: str | None = Field(default=None, pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
    content_type: str = Field(max_length=255)
    payload: dict[str, Any]
    received_at: datetime


@command("berth.cmd.registry-sync.put-dr-pair.v1", service="registry-sync", verb="put-dr-pair")
class PutDrPair(BaseModel):
    pair: DrPairSpec


@command("berth.cmd.registry-sync.dr-switch.v1", service="registry-sync", verb="dr-switch")
class DrSwitch(BaseModel):
    """Make ``to`` the pull endpoint of the pair (``standby`` on failover, ``primary`` on failback)."""

    tenant: str = TENANT
    pair: str = NAME
    to: Literal["primary", "standby"] = "standby"
    reason: str = Field(default="", max_length=1024)


# --- facts ------------------------------------------------------------------------------
class _ExecutionFact(BaseModel):
    tenant: str
    execution: str
    policy: str


@event("berth.registry.execution-started.v1", domain="registry", name="execution-started")
class ExecutionStarted(_ExecutionFact):
    trigger: str
    dry_run: bool
    tasks: int


@event("berth.registry.execution-progress.v1", domain="registry", name="execution-progress")
class ExecutionProgress(_ExecutionFact):
    done: int
    total: int
    failed: int
    bytes: int


@event("berth.registry.execution-succeeded.v1", domain="registry", name="execution-succeeded")
class ExecutionSucceeded(_ExecutionFact):
    counts: dict[str, int]
    bytes: int
    seconds: float


@event("berth.registry.execution-failed.v1", domain="registry", name="execution-failed")
class ExecutionFailed(_ExecutionFact):
    counts: dict[str, int]
    bytes: int
    seconds: float
    error: str | None


@event("berth.registry.artifact-copied.v1", domain="registry", name="artifact-copied")
class ArtifactCopied(_ExecutionFact):
    repository: str
    destination: str
    tag: str
    action: str
    status: str
    digest: str | None
    bytes: int
    duration: float
    error: str | None


@event("berth.registry.image-pushed.v1", domain="registry", name="image-pushed")
class ImagePushed(BaseModel):
    tenant: str
    registry: str
    repository: str
    tag: str
    digest: str | None
    action: str = "push"


@event("berth.registry.dr-switched.v1", domain="registry", name="dr-switched")
class DrSwitched(BaseModel):
    tenant: str
    pair: str
    active: Literal["primary", "standby"]
    pull_registry: str
    pull_endpoint: str
    reason: str
    lag_seconds: dict[str, float]
