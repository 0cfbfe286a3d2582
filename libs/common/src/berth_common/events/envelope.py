"""The CloudEvents 1.0 envelope every Berth message travels in."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

SPEC_VERSION = "1.0"


def new_id() -> str:
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


class Envelope(BaseModel):
    """CloudEvents 1.0 attributes plus Berth's extensions.

    ``type`` is versioned (``berth.cluster.created.v1``); ``data`` is the payload
    validated against the model registered for that type.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    specversion: str = SPEC_VERSION
    id: str = Field(default_factory=new_id, min_length=1, max_length=128)
    source: str = Field(min_length=1)
    type: str = Field(pattern=r"^berth\.[a-z0-9-]+(\.[a-z0-9-]+)+\.v[0-9]+$")
    subject: str | None = None
    time: datetime = Field(default_factory=utcnow)
    datacontenttype: str = "application/json"
    data: dict[str, Any] = Field(default_factory=dict)
    tenant: str = Field(default="system", min_length=1, max_length=63)
    correlationid: str | None = None
    causationid: str | None = None
    traceparent: str | None = None

    @field_validator("specversion")
    @classmethod
    def _spec(cls, v: str) -> str:
        if v != SPEC_VERSION:
            raise ValueError(f"unsupported CloudEvents specversion {v!r}; expected {SPEC_VERSION}")
        return v

    def caused(self, **kwargs: Any) -> dict[str, Any]:
        """Attributes for an event caused by this one (same correlation, causation = self)."""
        return {
            "tenant": self.tenant,
            "correlationid": self.correlationid or self.id,
            "causationid": self.id,
            **kwargs,
        }

    def to_json(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> Envelope:
        return cls.model_validate_json(raw)
