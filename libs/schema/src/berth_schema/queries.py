"""Building blocks of query request and reply models, shared by every domain.

Requests ignore fields they do not name (the gateway passes path parameters and paging through
unchanged); replies are strict about what they carry. A list reply is a ``Page`` of rows plus
whatever totals the op adds (``remaining``, ``limit``)."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
Name = Annotated[str, Field(min_length=1, max_length=63, pattern=NAME_PATTERN)]
T = TypeVar("T")


class QueryRequest(BaseModel):
    """Base of every query request: unknown fields are ignored, known ones are validated."""

    model_config = ConfigDict(extra="ignore")


class TenantQuery(QueryRequest):
    """A query scoped to one tenant; None (platform-admins through the gateway) means every tenant."""

    tenant: Name | None = None


class PageQuery(TenantQuery):
    """A list query: at most ``limit`` items whose key sorts after ``after``."""

    limit: int = Field(default=100, ge=1, le=500)
    after: str | None = Field(default=None, max_length=512)


class Reply(BaseModel):
    """Base of every query reply."""

    model_config = ConfigDict(extra="forbid")


class Page(Reply, Generic[T]):
    items: list[T]
