"""Replication policies: what to copy from where to where, when, and how."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .filters import Filter, selected
from .names import NAME, TENANT


class Triggers(BaseModel):
    """A policy always runs on demand; these add automatic runs."""

    model_config = ConfigDict(extra="forbid")

    cron: str | None = Field(default=None, max_length=128, description="5-field cron expression (UTC)")
    on_push: bool = Field(default=False, description="run for each push the source registry's webhook reports")
    reconcile_seconds: int | None = Field(
        default=None, ge=60, le=7 * 86_400, description="full re-sync period that catches lost webhook events"
    )

    @field_validator("cron")
    @classmethod
    def _cron(cls, v: str | None) -> str | None:
        if v is not None and not croniter.is_valid(v):
            raise ValueError(f"{v!r} is not a valid cron expression")
        return v

    def next_cron(self, after: datetime) -> datetime | None:
        if self.cron is None:
            return None
        nxt: datetime = croniter(self.cron, after).get_next(datetime)
        return nxt


class PolicySpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant: str = TENANT
    name: str = NAME
    mode: Literal["push", "pull"] = Field(
        default="push", description="push: local registry to a remote one; pull: a remote one into the local"
    )
    source: str = NAME
    destination: str = NAME
    destination_prefix: str = Field(
        default="",
        max_length=255,
        pattern=r"^([a-z0-9]+([._-][a-z0-9]+)*/)*$",
        description="prepended to repository names at the destination, e.g. 'mirror/'",
    )
    filters: list[Filter] = Field(default_factory=list, max_length=64)
    triggers: Triggers = Field(default_factory=Triggers)
    override: bool = Field(default=True, description="replace destination tags that point elsewhere")
    delete: bool = Field(default=False, description="delete destination tags gone from the source (opt-in)")
    dry_run: bool = False
    referrers: bool = Field(default=True, description="copy signatures, SBOMs and other referrers along")
    concurrency: int = Field(default=4, ge=1, le=64)
    bandwidth_kbps: int | None = Field(default=None, ge=64, description="cap for the whole policy, all workers")
    enabled: bool = True

    @model_validator(mode="after")
    def _distinct(self) -> PolicySpec:
        if self.source == self.destination and not self.destination_prefix:
            raise ValueError("source and destination are the same registry: set destination_prefix")
        return self

    def wants_repository(self, repo: str) -> bool:
        return selected(repo, self.filters, on="repository")

    def wants_tag(self, tag: str) -> bool:
        return selected(tag, self.filters, on="tag")

    def destination_repository(self, repo: str) -> str:
        return self.destination_prefix + repo

    @property
    def bandwidth_bytes(self) -> float | None:
        return None if self.bandwidth_kbps is None else self.bandwidth_kbps * 1024.0
