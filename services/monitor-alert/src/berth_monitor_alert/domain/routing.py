"""Routes: label matchers that pick the channels an alert goes to."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .matchers import Matcher, all_match


class Route(BaseModel):
    """Alerts whose labels satisfy every matcher go to ``channels``. Routes are tried in
    ``order``; the first match wins unless it says ``continue_``."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    tenant: str = Field(default="system", min_length=1, max_length=63)
    order: int = 0
    matchers: list[Matcher] = Field(default_factory=list)
    channels: list[str] = Field(min_length=1)
    continue_: bool = Field(default=False, alias="continue")

    @field_validator("matchers", mode="before")
    @classmethod
    def _parse_text(cls, v: object) -> object:
        if isinstance(v, list):
            return [Matcher.parse(m) if isinstance(m, str) else m for m in v]
        return v


def route(routes: Iterable[Route], labels: Mapping[str, str]) -> list[str]:
    """Channel names for an alert, in route order, without duplicates."""
    chosen: list[str] = []
    for r in sorted(routes, key=lambda r: (r.order, r.name)):
        if all_match(r.matchers, labels):
            chosen.extend(c for c in r.channels if c not in chosen)
            if not r.continue_:
                break
    return chosen
