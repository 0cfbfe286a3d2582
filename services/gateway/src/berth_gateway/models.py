"""Request and response bodies of the HTTP API (the OpenAPI document is generated from these)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from berth_schema.queries import NAME_PATTERN as NAME_PATTERN
from pydantic import BaseModel, ConfigDict, Field, model_validator

Name = Annotated[
    str,
    Field(min_length=1, max_length=63, pattern=NAME_PATTERN, description="DNS label: a-z, 0-9, '-'"),
]
Role = Literal["platform-admin", "tenant-admin", "developer", "viewer"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TenantCreate(Body):
    name: Name
    display_name: str = Field(default="", max_length=120)


class MemberBind(Body):
    """A role for a user, or for everyone in an IdP group (the OIDC token's groups claim)."""

    user: str = Field(default="", max_length=255)
    group: str = Field(default="", max_length=255)
    role: Role
    namespace: str = Field(default="", max_length=63, description="empty: the whole tenant")

    @model_validator(mode="after")
    def _one_subject(self) -> MemberBind:
        if bool(self.user) == bool(self.group):
            raise ValueError("give exactly one of user or group")
        if self.user.startswith("group:"):
            raise ValueError("user: a user name cannot start with 'group:' (bind the group with group)")
        return self


class TokenCreate(Body):
    name: str = Field(min_length=1, max_length=63)
    expires_in_days: int = Field(default=90, ge=1, le=3650)


PRINTABLE = r"^[^\x00-\x1f\x7f]+$"


class ChatBindingCreate(Body):
    platform: Literal["dingtalk", "feishu", "slack"]
    chat_user: str = Field(min_length=1, max_length=255, pattern=PRINTABLE, description="the chat platform's user id")
    user: str = Field(min_length=1, max_length=255, pattern=PRINTABLE)


# --- responses -----------------------------------------------------------------------------


class Page(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None = Field(default=None, description="opaque; pass as ?cursor= for the next page")
    remaining: int | None = Field(default=None, description="how many more the tenant may create (when the list says)")
    limit: int | None = Field(default=None, description="the tenant's limit for this list (when the list says)")


class Operation(BaseModel):
    id: str
    kind: str
    target: str
    tenant: str
    state: Literal["pending", "running", "succeeded", "failed"]
    message: str = ""
    steps: list[dict[str, Any]] = Field(default_factory=list)
    created_at: str
    updated_at: str
    requested_by: str


class Accepted(BaseModel):
    operation: Operation


class TokenCreated(BaseModel):
    id: str
    name: str
    token: str = Field(description="shown once; only a salted hash is stored")
    expires_at: str


class ProblemField(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str = ""
    request_id: str = ""
    errors: list[ProblemField] | None = None
