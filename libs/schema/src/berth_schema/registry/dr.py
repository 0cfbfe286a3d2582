"""Registry DR: a primary/standby pair under continuous replication, lag per repository, switch."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .names import NAME, TENANT


class DrPairSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant: str = TENANT
    name: str = NAME
    primary: str = NAME
    standby: str = NAME
    reconcile_seconds: int = Field(default=300, ge=60, le=86_400)

    @model_validator(mode="after")
    def _distinct(self) -> DrPairSpec:
        if self.primary == self.standby:
            raise ValueError("primary and standby must be different registries")
        return self

    @property
    def policy_name(self) -> str:
        return f"dr-{self.name}"[:63]


class TagSync(BaseModel):
    pushed_digest: str | None = None
    pushed_at: datetime | None = None
    synced_digest: str | None = None
    synced_at: datetime | None = None


class DrState(BaseModel):
    spec: DrPairSpec
    active: Literal["primary", "standby"] = "primary"
    switched_at: datetime | None = None
    switch_reason: str | None = None
    tags: dict[str, dict[str, TagSync]] = Field(default_factory=dict)  # repo -> tag -> sync

    def pushed(self, repo: str, tag: str, digest: str | None, at: datetime) -> None:
        s = self.tags.setdefault(repo, {}).setdefault(tag, TagSync())
        s.pushed_digest, s.pushed_at = digest, at

    def synced(self, repo: str, tag: str, digest: str | None, at: datetime) -> None:
        s = self.tags.setdefault(repo, {}).setdefault(tag, TagSync())
        s.synced_digest, s.synced_at = digest, at
        if s.pushed_digest is None:
            s.pushed_digest, s.pushed_at = digest, s.pushed_at or at

    def lag(self, now: datetime) -> dict[str, float]:
        """Seconds since the oldest push the standby does not have yet, per repository (0 when in sync)."""
        out: dict[str, float] = {}
        for repo, tags in sorted(self.tags.items()):
            behind = [
                (now - s.pushed_at).total_seconds()
                for s in tags.values()
                if s.pushed_at is not None and s.pushed_digest is not None and s.pushed_digest != s.synced_digest
            ]
            out[repo] = max(0.0, max(behind)) if behind else 0.0
        return out

    @property
    def pull_registry(self) -> str:
        return self.spec.primary if self.active == "primary" else self.spec.standby

    def switch(self, to: Literal["primary", "standby"], *, at: datetime, reason: str) -> bool:
        if self.active == to:
            return False
        self.active, self.switched_at, self.switch_reason = to, at, reason
        return True
