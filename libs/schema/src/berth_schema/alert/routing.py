"""Alert routes: label matchers that pick the channels an alert goes to. The put-route
command carries one."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .matchers import Matcher, parse_text


class Route(BaseModel):
    """Alerts whose labels satisfy every matcher go to ``channels``. Routes are tried in
    ``order``; the first match wins unless it says ``continue``."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    tenant: str = Field(default="system", min_length=1, max_length=63)
    order: int = 0
    matchers: list[Matcher] = Field(default_factory=list)
    channels: list[str] = Field(min_length=1)
    continue_: bool = Field(default=False, alias="continue")

    @field_validator("matchers", mode="before")
    @classmethod
    def _parse_text(cls, v: object) -> object:
        return parse_text(v)
