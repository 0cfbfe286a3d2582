"""Facts release-orchestrator publishes (``berth.evt.release.*``) and commands it accepts
(``berth.cmd.release-orchestrator.*``).

Other services import this module to send commands here (monitor-alert sends
``scale-workload``; chatops sends ``promote`` / ``rollback``). The specs the commands carry
(``Strategy``, ``WorkloadSpec``, ``ConfigSpec``, ``TemplateSpec``) validate themselves and
name a bad field by its full path (``strategy.steps[2].set_weight``); what only the service
can judge (a template's parameters merged with a release's values, best practices per
environment) it refuses with a ``failed`` fact naming the fields."""

from __future__ import annotations

from typing import Any, Literal

from berth_common.events import command, event
from pydantic import BaseModel, Field

from .configs import ConfigSpec
from .strategy import Rolling, Strategy
from .templates import TemplateSpec
from .workload import WorkloadSpec

TENANT = Field(min_length=1, max_length=63)
NAME = Field(min_length=1, max_length=63, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
BY = Field(default="", max_length=128)


# --- commands -------------------------------------------------------------------------
@command("berth.cmd.release-orchestrator.create-release.v1", service="release-orchestrator", verb="create-release")
class CreateRelease(BaseModel):
    """Roll out a new revision of an application (the release name is the workload name).

    ``template`` names a saved template; ``workload`` is an inline workload spec instead;
    ``values`` override the template's (or the inline workload's) parameters: workload
    fields (image, replicas, env...) or, for a chart template, the chart's values, which
    are free-form; the result is checked once merged.
    ``strategy`` is ``"rolling"`` / ``"blue-green"`` / ``"canary"`` or a full strategy object."""

    tenant: str = TENANT
    name: str = NAME
    cluster: str = NAME
    namespace: str = NAME
    environment: str = Field(default="prod", min_length=1, max_length=32)
    template: str | None = Field(default=None, max_length=255)
    workload: WorkloadSpec | None = None
    values: dict[str, Any] = Field(default_factory=dict)
    strategy: Strategy = Field(default_factory=Rolling)
    requested_by: str = BY


@command("berth.cmd.release-orchestrator.promote.v1", service="release-orchestrator", verb="promote")
class PromoteRelease(BaseModel):
    """Resume a paused release (next step), or with ``full`` skip every remaining step."""

    tenant: str = TENANT
    release: str = NAME
    full: bool = False
    by: str = BY


@command("berth.cmd.release-orchestrator.rollback.v1", service="release-orchestrator", verb="rollback")
class RollbackRelease(BaseModel):
    """In progress: return all traffic to stable and scale the canary down. Finished: roll back
    to ``to_revision`` (default: the previous successful revision)."""

    tenant: str = TENANT
    release: str = NAME
    to_revision: int | None = Field(default=None, ge=1)
    reason: str = Field(default="", max_length=1024)
    by: str = BY


@command("berth.cmd.release-orchestrator.abort.v1", service="release-orchestrator", verb="abort")
class AbortRelease(BaseModel):
    """Stop a release in progress: traffic back to stable, canary/preview scaled down."""

    tenant: str = TENANT
    release: str = NAME
    reason: str = Field(default="", max_length=1024)
    by: str = BY


@command("berth.cmd.release-orchestrator.scale-workload.v1", service="release-orchestrator", verb="scale-workload")
class ScaleWorkload(BaseModel):
    """Set a workload's replicas (Deployment or StatefulSet) in a tenant cluster."""

    tenant: str = TENANT
    cluster: str = Field(min_length=1, max_length=63)
    namespace: str = Field(min_length=1, max_length=63)
    kind: str = Field(default="Deployment", pattern=r"^(Deployment|StatefulSet)$")
    name: str = Field(min_length=1, max_length=253)
    replicas: int = Field(ge=0, le=10_000)
    reason: str = Field(default="", max_length=1024)


@command("berth.cmd.release-orchestrator.set-config.v1", service="release-orchestrator", verb="set-config")
class SetConfig(BaseModel):
    """Write a new version of an app's config for one environment (a ConfigMap or Secret).

    ``restart`` rolls the named Deployments (default: the app's own workloads) so they
    read the new data."""

    tenant: str = TENANT
    config: ConfigSpec
    restart: bool = False
    by: str = BY


@command("berth.cmd.release-orchestrator.rollback-config.v1", service="release-orchestrator", verb="rollback-config")
class RollbackConfig(BaseModel):
    """Write a new config version whose data is that of ``to_version``."""

    tenant: str = TENANT
    name: str = NAME
    environment: str = Field(min_length=1, max_length=32)
    to_version: int = Field(ge=1)
    restart: bool = False
    by: str = BY


@command("berth.cmd.release-orchestrator.put-template.v1", service="release-orchestrator", verb="put-template")
class PutTemplate(BaseModel):
    """Create or update a template (each update is a new template version)."""

    tenant: str = TENANT
    template: TemplateSpec
    by: str = BY


@command("berth.cmd.release-orchestrator.delete-template.v1", service="release-orchestrator", verb="delete-template")
class DeleteTemplate(BaseModel):
    tenant: str = TENANT
    name: str = NAME
    by: str = BY


# --- facts ----------------------------------------------------------------------------
class ReleaseFact(BaseModel):
    release: str
    revision: int
    cluster: str
    namespace: str


@event("berth.release.requested.v1", domain="release", name="requested")
class ReleaseRequested(ReleaseFact):
    strategy: str
    image: str
    steps: list[str]
    requested_by: str = ""
    rollback_of: int | None = None


@event("berth.release.step-started.v1", domain="release", name="step-started")
class StepStarted(ReleaseFact):
    index: int
    step: str


@event("berth.release.weight-changed.v1", domain="release", name="weight-changed")
class WeightChanged(ReleaseFact):
    from_weight: int
    to_weight: int
    traffic: Literal["weight", "header", "cookie"]


class AnalysisFact(ReleaseFact):
    index: int
    query: str
    success_condition: str
    measurements: list[float | None]
    failures: int
    errors: int


@event("berth.release.analysis-passed.v1", domain="release", name="analysis-passed")
class AnalysisPassed(AnalysisFact):
    pass


@event("berth.release.analysis-failed.v1", domain="release", name="analysis-failed")
class AnalysisFailed(AnalysisFact):
    reason: str


@event("berth.release.promoted.v1", domain="release", name="promoted")
class ReleasePromoted(ReleaseFact):
    strategy: str
    image: str


@event("berth.release.rolled-back.v1", domain="release", name="rolled-back")
class ReleaseRolledBack(ReleaseFact):
    reason: str
    image: str  # the image serving traffic after the rollback
    aborted: bool = False
    to_revision: int | None = None


@event("berth.release.failed.v1", domain="release", name="failed")
class ReleaseFailed(BaseModel):
    """A command was refused (``errors`` name each bad field) or a step could not be applied."""

    release: str
    reason: str
    errors: list[dict[str, str]] = Field(default_factory=list)
    revision: int | None = None


@event("berth.release.config-changed.v1", domain="release", name="config-changed")
class ConfigChanged(BaseModel):
    name: str
    app: str
    environment: str
    cluster: str
    namespace: str
    kind: Literal["ConfigMap", "Secret"]
    version: int
    previous_version: int | None
    added: list[str]
    removed: list[str]
    changed: list[str]
    rollback_of: int | None = None
    restart: list[str] = Field(default_factory=list)
    by: str = ""


@event("berth.release.workload-scaled.v1", domain="release", name="workload-scaled")
class WorkloadScaled(BaseModel):
    cluster: str
    namespace: str
    kind: str
    name: str
    replicas: int
    previous: int | None
    reason: str = ""


@event("berth.release.template-saved.v1", domain="release", name="template-saved")
class TemplateSaved(BaseModel):
    name: str
    version: int
    kind: str
    visibility: str
    deleted: bool = False
