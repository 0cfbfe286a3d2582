"""monitor-alert's own settings (BERTH_MONITOR_*) and the dependencies ``bootstrap`` wires in."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from berth_common.clock import Clock
from pydantic_settings import BaseSettings, SettingsConfigDict

from .adapters.alertmanager_api import Alertmanagers
from .adapters.prometheus_api import Prometheus
from .adapters.senders import Sender
from .domain.retry import Backoff


class MonitorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BERTH_MONITOR_", extra="ignore")

    alertmanager_urls: str = ""  # comma-separated; silences are pushed to each
    prometheus_url: str = ""  # for metric-threshold scaling policies
    retry_base_seconds: float = 2.0
    retry_cap_seconds: float = 300.0
    escalation_sweep_seconds: float = 15.0
    scaling_sweep_seconds: float = 5.0
    default_tenant: str = "system"

    def alertmanagers(self) -> list[str]:
        return [u.strip() for u in self.alertmanager_urls.split(",") if u.strip()]


@dataclass
class Deps:
    settings: MonitorSettings = field(default_factory=MonitorSettings)
    clock: Clock = field(default_factory=Clock)
    sender: Sender = field(default_factory=Sender)
    alertmanagers: Alertmanagers = field(default_factory=Alertmanagers)
    prometheus: Prometheus | None = None  # for metric-threshold scaling policies

    @property
    def backoff(self) -> Backoff:
        return Backoff(base=self.settings.retry_base_seconds, cap=self.settings.retry_cap_seconds)

    def take(self, other: Deps) -> None:
        """Become ``other`` (handlers hold this object; ``bootstrap`` swaps what it carries)."""
        for f in fields(self):
            setattr(self, f.name, getattr(other, f.name))


deps = Deps()
