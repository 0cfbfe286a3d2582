"""Silences: matchers plus a time window; a matching alert is not delivered while one is active."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from berth_schema.alert.matchers import Matcher, all_match
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Silence(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1, max_length=64)
    tenant: str = Field(default="system", min_length=1, max_length=63)
    matchers: list[Matcher] = Field(min_length=1)
    starts_at: datetime
    ends_at: datetime
    created_by: str = Field(min_length=1, max_length=128)
    comment: str = Field(default="", max_length=1024)
    alertmanager_id: str | None = None
    expired: bool = False

    @field_validator("matchers", mode="before")
    @classmethod
    def _parse_text(cls, v: object) -> object:
        if isinstance(v, list):
            return [Matcher.parse(m) if isinstance(m, str) else m for m in v]
        return v

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        if v.tzinfo is None:
            raise ValueError("must carry a time zone offset")
        return v

    @model_validator(mode="after")
    def _window(self) -> Silence:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self

    def active(self, now: datetime) -> bool:
        return not self.expired and self.starts_at <= now < self.ends_at

    def silences(self, labels: Mapping[str, str], now: datetime) -> bool:
        return self.active(now) and all_match(self.matchers, labels)

    def to_alertmanager(self) -> dict[str, object]:
        """The body of Alertmanager's POST /api/v2/silences."""
        return {
            "matchers": [
                {"name": m.name, "value": m.value, "isRegex": m.op in ("=~", "!~"), "isEqual": m.op in ("=", "=~")}
                for m in self.matchers
            ],
            "startsAt": self.starts_at.isoformat(),
            "endsAt": self.ends_at.isoformat(),
            "createdBy": self.created_by,
            "comment": self.comment or f"berth silence {self.id}",
        }


def silenced_by(silences: Iterable[Silence], labels: Mapping[str, str], now: datetime) -> Silence | None:
    for s in silences:
        if s.silences(labels, now):
            return s
    return None
