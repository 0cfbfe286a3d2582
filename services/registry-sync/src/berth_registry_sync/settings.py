"""registry-sync's settings: the common BERTH_* ones plus how often the scheduler looks for due runs."""

from __future__ import annotations

from berth_common.runtime.settings import ServiceSettings
from pydantic import Field


class RegistrySyncSettings(ServiceSettings):
    registry_sync_tick_seconds: float = Field(
        default=10.0, gt=0, description="how often cron and reconcile triggers are checked (seconds)"
    )
