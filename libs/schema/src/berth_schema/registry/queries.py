"""Queries registry-sync answers (``berth.api.registry-sync.<op>``): registries, replication
policies, executions and registry DR status.

Every query is scoped to one tenant (``tenant`` is required). No reply can carry a registry's
password: a registry row shows ``"********"`` when one is kept, else null."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from berth_common.events import query
from pydantic import Field

from ..queries import Name, Page, QueryRequest, Reply
from .policies import PolicySpec
from .registries import REDACTED

SERVICE = "registry-sync"
Trigger = Literal["manual", "cron", "webhook", "reconcile", "retry", "dr"]
TaskStatus = Literal["pending", "copied", "skipped", "exists", "would-copy", "deleted", "would-delete", "failed"]
ExecStatus = Literal["running", "succeeded", "failed"]

__all__ = [
    "DrStatus",
    "ExecStatus",
    "ExecutionDetail",
    "ExecutionList",
    "ExecutionSummary",
    "ExecutionTask",
    "GetDrStatus",
    "GetExecution",
    "ListExecutions",
    "ListPolicies",
    "ListRegistries",
    "PolicyInfo",
    "PolicyList",
    "PolicySchedule",
    "RegistryInfo",
    "RegistryList",
    "TaskStatus",
    "Trigger",
]


# --- replies ----------------------------------------------------------------------------------------
class RegistryInfo(Reply):
    """A registry as shown: its spec without the password."""

    tenant: str
    name: str
    url: str
    kind: Literal["distribution", "harbor"] = "distribution"
    username: str | None = None
    password: Literal["********"] | None = Field(default=None, description=f"{REDACTED!r} when a password is kept")
    insecure: bool = False
    ca_bundle: str | None = None
    description: str = ""


class RegistryList(Page[RegistryInfo]):
    """The tenant's registries."""


class PolicySchedule(Reply):
    """When the policy last ran, and the marks of its automatic triggers (null until set)."""

    cron_at: str | None = None
    reconcile_at: str | None = None
    last_run_at: str | None = None
    last_execution: str | None = None
    last_status: ExecStatus | None = None


class PolicyInfo(PolicySpec):
    """A replication policy: its spec and its schedule."""

    schedule: PolicySchedule = Field(default_factory=PolicySchedule)


class PolicyList(Page[PolicyInfo]):
    """The tenant's replication policies."""


class ExecutionTask(Reply):
    """One artifact (tag) of an execution: copied, skipped, deleted or failed."""

    repository: str = Field(description="at the source")
    destination: str = Field(description="the repository at the destination")
    tag: str
    action: Literal["copy", "delete"] = "copy"
    status: TaskStatus = "pending"
    digest: str | None = None
    bytes: int = 0
    duration: float = 0.0
    error: str | None = None


class ExecutionSummary(Reply):
    """One run of a policy, with task counts by status and the bytes it moved."""

    id: str
    tenant: str
    policy: str
    trigger: Trigger
    dry_run: bool = False
    status: ExecStatus = "running"
    started_at: datetime
    finished_at: datetime | None = None
    error: str | None = None
    retry_of: str | None = None
    counts: dict[str, int] = Field(description="total, and one count per task status present")
    bytes: int


class ExecutionDetail(ExecutionSummary):
    """A run with each of its tasks."""

    tasks: list[ExecutionTask]


class ExecutionList(Page[ExecutionSummary]):
    """Executions, newest first."""


class DrStatus(Reply):
    """A registry DR pair: which side serves pulls, since when, and how far the standby lags."""

    pair: str
    primary: str
    standby: str
    active: Literal["primary", "standby"]
    pull_registry: str
    pull_endpoint: str
    switched_at: datetime | None
    switch_reason: str | None
    lag_seconds: dict[str, float] = Field(description="per repository: seconds since the oldest unsynced push")
    max_lag_seconds: float


# --- requests ---------------------------------------------------------------------------------------
class _TenantScoped(QueryRequest):
    tenant: Name


@query(SERVICE, "list-registries", reply=RegistryList)
class ListRegistries(_TenantScoped):
    """The tenant's registries (passwords redacted)."""


@query(SERVICE, "list-policies", reply=PolicyList)
class ListPolicies(_TenantScoped):
    """The tenant's replication policies with their schedules."""


@query(SERVICE, "get-execution", reply=ExecutionDetail)
class GetExecution(_TenantScoped):
    """One execution with its tasks."""

    id: str = Field(min_length=1, max_length=255)


@query(SERVICE, "list-executions", reply=ExecutionList)
class ListExecutions(_TenantScoped):
    """The newest ``limit`` executions, optionally of one policy."""

    policy: Name | Literal[""] | None = None
    limit: int = Field(default=100, ge=1, le=1000)


@query(SERVICE, "dr-status", reply=DrStatus)
class GetDrStatus(_TenantScoped):
    """A registry DR pair's state and lag."""

    pair: Name
