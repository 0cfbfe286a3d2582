"""Templates: the rules an application is deployed by (模板). A workload template holds
Deployment + Service + Ingress parameters; a chart template references a Helm chart that
``helm template`` renders. Private templates belong to a tenant; public ones are visible
to every tenant. Every save is a new template version."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import Invalid, from_validation
from .workload import DNS_LABEL, WorkloadSpec


class ChartRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chart: str = Field(min_length=1, max_length=512, description="chart name in repo, a local path, or an oci:// ref")
    repo: str | None = Field(default=None, max_length=512, pattern=r"^https?://")
    version: str | None = Field(default=None, max_length=64)
    values: dict[str, Any] = Field(default_factory=dict)


class Template(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant: str = Field(min_length=1, max_length=63)
    name: str = Field(min_length=1, max_length=63, pattern=DNS_LABEL)
    description: str = Field(default="", max_length=1024)
    visibility: Literal["private", "public"] = "private"
    kind: Literal["workload", "chart"] = "workload"
    workload: dict[str, Any] | None = Field(
        default=None, description="workload parameters; image may be left for the release to give"
    )
    chart: ChartRef | None = None
    version: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _one_body(self) -> Template:
        if self.kind == "workload" and self.workload is None:
            raise ValueError("workload: a workload template needs workload parameters")
        if self.kind == "chart" and self.chart is None:
            raise ValueError("chart: a chart template needs a chart reference")
        if self.kind == "workload" and self.chart is not None:
            raise ValueError("chart: only chart templates take a chart")
        if self.kind == "chart" and self.workload is not None:
            raise ValueError("workload: chart templates take values, not workload parameters")
        return self


def parse_template(data: dict[str, Any], *, tenant: str) -> Template:
    try:
        tpl = Template.model_validate({**data, "tenant": tenant})
    except ValidationError as exc:
        raise from_validation(exc, "template") from None
    if tpl.workload is not None:
        # check the parameters it does give, with a placeholder for an image left to releases
        try:
            WorkloadSpec.model_validate({"image": "placeholder:1", **tpl.workload})
        except ValidationError as exc:
            raise from_validation(exc, "template.workload") from None
    return tpl


def visible_to(tpl: Template, tenant: str) -> bool:
    return tpl.tenant == tenant or tpl.visibility == "public"


def reference(name: str) -> tuple[str | None, str]:
    """``owner/name`` names another tenant's public template; ``name`` the tenant's own (or a public one)."""
    if "/" in name:
        owner, _, short = name.partition("/")
        if not owner or not short:
            raise Invalid([("template", f"{name!r} is not 'name' or 'tenant/name'")])
        return owner, short
    return None, name
