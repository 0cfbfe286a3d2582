"""Templates: the rules an application is deployed by (模板). A workload template holds
Deployment + Service + Ingress parameters; a chart template references a Helm chart that
``helm template`` renders. Private templates belong to a tenant; public ones are visible
to every tenant. Every save is a new template version."""

from __future__ import annotations

from typing import Any

from berth_schema.release.templates import TemplateSpec
from pydantic import Field, ValidationError

from .errors import Invalid, from_validation


class Template(TemplateSpec):
    """A saved template: its owner and version."""

    tenant: str = Field(min_length=1, max_length=63)
    version: int = Field(default=0, ge=0)


def parse_template(data: TemplateSpec | dict[str, Any], *, tenant: str) -> Template:
    """The template the tenant saves (Invalid names each bad field as ``template.<path>``)."""
    if isinstance(data, TemplateSpec):
        data = data.model_dump(exclude_unset=True)
    try:
        return Template.model_validate({**data, "tenant": tenant})
    except ValidationError as exc:
        raise from_validation(exc, "template") from None


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
