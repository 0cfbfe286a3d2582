"""Templates: the rules an application is deployed by (模板). A workload template holds
Deployment + Service + Ingress parameters (``image`` may be left for each release to give);
a chart template references a Helm chart that ``helm template`` renders. Private templates
belong to a tenant; public ones are visible to every tenant."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import FieldErrors, paths
from .workload import DNS_LABEL, WorkloadSpec


class ChartRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chart: str = Field(min_length=1, max_length=512, description="chart name in repo, a local path, or an oci:// ref")
    repo: str | None = Field(default=None, max_length=512, pattern=r"^https?://")
    version: str | None = Field(default=None, max_length=64)
    values: dict[str, Any] = Field(default_factory=dict)


class TemplateSpec(BaseModel):
    """A template as the put-template command carries it (its tenant is the command's)."""

    model_config = ConfigDict(extra="forbid")

    tenant: str | None = Field(default=None, min_length=1, max_length=63, description="the command's tenant")
    name: str = Field(min_length=1, max_length=63, pattern=DNS_LABEL)
    description: str = Field(default="", max_length=1024)
    visibility: Literal["private", "public"] = "private"
    kind: Literal["workload", "chart"] = "workload"
    workload: dict[str, Any] | None = Field(
        default=None, description="workload parameters; image may be left for the release to give"
    )
    chart: ChartRef | None = None

    @model_validator(mode="after")
    def _one_body(self) -> TemplateSpec:
        if self.kind == "workload" and self.workload is None:
            raise FieldErrors([("workload", "a workload template needs workload parameters")])
        if self.kind == "chart" and self.chart is None:
            raise FieldErrors([("chart", "a chart template needs a chart reference")])
        if self.kind == "workload" and self.chart is not None:
            raise FieldErrors([("chart", "only chart templates take a chart")])
        if self.kind == "chart" and self.workload is not None:
            raise FieldErrors([("workload", "chart templates take values, not workload parameters")])
        if self.workload is not None:
            # the parameters it does give, with a placeholder for an image left to releases
            try:
                WorkloadSpec.model_validate({"image": "placeholder:1", **self.workload})
            except ValidationError as exc:
                raise FieldErrors(paths(exc, prefix="workload")) from None
        return self
