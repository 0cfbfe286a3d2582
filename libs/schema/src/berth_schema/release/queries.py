"""Queries release-orchestrator answers (``berth.api.release-orchestrator.<op>``): releases,
templates and the config center. Nested documents whose rules release-orchestrator owns (a
workload spec, a strategy, an analysis spec, chart values) travel as JSON objects."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from berth_common.events import query
from pydantic import AliasChoices, ConfigDict, Field

from ..queries import Name, Page, Reply, TenantQuery

__all__ = [
    "AnalysisRunView",
    "ChartRefView",
    "ConfigDiff",
    "ConfigDiffReply",
    "ConfigHistory",
    "ConfigHistoryEntry",
    "ConfigHistoryReply",
    "ConfigPage",
    "ConfigView",
    "GetConfig",
    "GetRelease",
    "GetTemplate",
    "ListConfigs",
    "ListReleases",
    "ListTemplates",
    "MeasurementView",
    "ReleaseDetail",
    "ReleasePage",
    "ReleaseStepView",
    "ReleaseSummary",
    "RevisionView",
    "TemplatePage",
    "TemplateView",
    "ValueChange",
]

Phase = Literal["progressing", "paused", "rolling-back", "promoted", "rolled-back", "aborted", "failed"]
Color = Literal["blue", "green"]
ConfigKind = Literal["ConfigMap", "Secret"]
IsoTime = Annotated[str, Field(description="ISO 8601 time as the service recorded it")]


class _TenantRequired(TenantQuery):
    tenant: Name  # every release-orchestrator query is per tenant


# --- releases ---------------------------------------------------------------------------
class ReleaseSummary(Reply):
    """A row of ``list-releases``."""

    name: str
    tenant: str
    cluster: str
    namespace: str
    environment: str
    revision: int
    phase: Phase
    strategy: str = Field(description="rolling, canary or blue-green")
    image: str
    weight: int = Field(description="canary traffic weight now (percent)")
    current_step: str | None
    step: str = Field(description="<current step>/<steps>")
    updated_at: IsoTime


class ReleasePage(Page[ReleaseSummary]):
    pass


@query("release-orchestrator", "list-releases", reply=ReleasePage)
class ListReleases(_TenantRequired):
    """Every release of the tenant, optionally in one cluster, namespace or phase."""

    cluster: str | None = None
    namespace: str | None = None
    phase: str | None = None


class ReleaseStepView(Reply):
    kind: str
    name: str
    weight: int | None
    pause_seconds: float | None
    analysis: dict[str, Any] | None
    status: Literal["pending", "running", "done", "skipped"]
    started_at: datetime | None
    finished_at: datetime | None


class MeasurementView(Reply):
    at: datetime
    value: float | None
    outcome: Literal["success", "failure", "error"]
    error: str


class AnalysisRunView(Reply):
    index: int = Field(description="the release step the run belongs to")
    started_at: datetime
    status: Literal["running", "passed", "failed"]
    measurements: list[MeasurementView]
    reason: str


class RevisionView(Reply):
    revision: int
    image: str
    strategy: str
    phase: str
    workload: dict[str, Any] | None
    created_at: datetime
    finished_at: datetime | None
    rollback_of: int | None
    reason: str


class ReleaseDetail(Reply):
    """``get-release``: the release with its steps, weight, analysis runs and revision history
    (rendered manifests are left out)."""

    tenant: str
    name: str
    cluster: str
    namespace: str
    environment: str
    revision: int
    template: str | None
    template_version: int | None
    kind: Literal["workload", "chart"]
    workload: dict[str, Any] | None
    strategy: dict[str, Any]
    stable: dict[str, Any] | None
    stable_revision: int | None
    color: Color | None
    active_color: Color | None
    old_color: Color | None
    phase: Phase
    steps: list[ReleaseStepView]
    step_index: int
    weight: int
    analysis_runs: list[AnalysisRunView]
    switched_at: datetime | None
    reason: str
    aborted: bool
    rollback_of: int | None
    requested_by: str
    correlationid: str | None
    warnings: list[str]
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    history: list[RevisionView]
    image: str
    stable_image: str
    current_step: str | None


@query("release-orchestrator", "get-release", reply=ReleaseDetail)
class GetRelease(_TenantRequired):
    release: Name = Field(validation_alias=AliasChoices("release", "name"))


# --- templates --------------------------------------------------------------------------
class ChartRefView(Reply):
    chart: str
    repo: str | None
    version: str | None
    values: dict[str, Any]


class TemplateView(Reply):
    """A template as the asking tenant sees it: another tenant's public template is named
    ``owner/name``; ``tenant`` is the asker, ``owner`` the tenant that saved it."""

    tenant: str
    name: str
    description: str
    visibility: Literal["private", "public"]
    kind: Literal["workload", "chart"]
    workload: dict[str, Any] | None
    chart: ChartRefView | None
    version: int
    owner: str


class TemplatePage(Page[TemplateView]):
    pass


@query("release-orchestrator", "list-templates", reply=TemplatePage)
class ListTemplates(_TenantRequired):
    """The tenant's own templates and every public one."""


@query("release-orchestrator", "get-template", reply=TemplateView)
class GetTemplate(_TenantRequired):
    template: str = Field(
        min_length=1,
        max_length=127,
        validation_alias=AliasChoices("template", "name"),
        description="a template name, or owner/name for another tenant's public template",
    )


# --- configs ----------------------------------------------------------------------------
class ConfigView(Reply):
    """A config's current version; a Secret's values are shown as digests."""

    tenant: str
    name: str
    app: str
    environment: str
    cluster: str
    namespace: str
    kind: ConfigKind
    description: str
    version: int
    data: dict[str, str]
    labels: dict[str, str]
    updated_at: datetime
    updated_by: str
    versions: list[int] = Field(description="the versions kept")


class ConfigPage(Page[ConfigView]):
    pass


@query("release-orchestrator", "list-configs", reply=ConfigPage)
class ListConfigs(_TenantRequired):
    environment: str | None = None
    app: str | None = None
    cluster: str | None = None


class _OneConfig(_TenantRequired):
    config: Name = Field(validation_alias=AliasChoices("config", "name"))
    environment: str | None = Field(
        default=None, description="required when the config exists in more than one environment"
    )


@query("release-orchestrator", "get-config", reply=ConfigView)
class GetConfig(_OneConfig):
    pass


class ConfigHistoryEntry(Reply):
    version: int
    at: IsoTime
    by: str
    rollback_of: int | None
    data: dict[str, str]
    added: list[str] = Field(description="keys added since the version before")
    removed: list[str]
    changed: list[str]


class ConfigHistoryReply(Page[ConfigHistoryEntry]):
    name: str
    environment: str
    tenant: str


@query("release-orchestrator", "config-history", reply=ConfigHistoryReply)
class ConfigHistory(_OneConfig):
    """Every kept version of a config with what changed from the one before."""


class ValueChange(Reply):
    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True)

    from_: str | None = Field(alias="from")
    to: str | None


class ConfigDiffReply(Reply):
    """Keys added, removed and changed from version ``from`` to ``to``; a ConfigMap also shows
    the values (``values``), a Secret never does (None)."""

    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True)

    tenant: str
    from_: int = Field(alias="from")
    to: int
    added: list[str]
    removed: list[str]
    changed: list[str]
    values: dict[str, ValueChange] | None = None


@query("release-orchestrator", "config-diff", reply=ConfigDiffReply)
class ConfigDiff(_OneConfig):
    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True)

    from_: int = Field(alias="from", ge=0)
    to: int = Field(ge=0)
