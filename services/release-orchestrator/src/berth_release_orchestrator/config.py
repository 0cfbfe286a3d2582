"""release-orchestrator's own settings (``BERTH_RO_*``) and the dependencies ``bootstrap`` wires in."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field, fields

from berth_common.clock import Clock
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from .adapters.clusters import Clusters


class ReleaseSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BERTH_RO_", extra="ignore")

    kubeconfig: str = Field(default="", description="one kubeconfig for every cluster (embedded default)")
    kubeconfig_dir: str = Field(default="", description="a directory of <cluster>.kubeconfig files")
    prometheus_url: str = Field(default="", description="default Prometheus for metric analysis")
    tick_seconds: float = Field(default=2.0, gt=0, description="how often the runner advances releases")
    lease_seconds: float = Field(default=15.0, gt=0, description="runner leader lease time to live")


@dataclass
class Deps:
    settings: ReleaseSettings = field(default_factory=ReleaseSettings)
    clock: Clock = field(default_factory=Clock)
    clusters: Clusters | None = None
    holder: str = field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}")

    def cluster_access(self) -> Clusters:
        if self.clusters is None:
            raise RuntimeError("release-orchestrator is not bootstrapped (no cluster access)")
        return self.clusters

    def take(self, other: Deps) -> None:
        """Become ``other`` (handlers hold this object; ``bootstrap`` swaps what it carries)."""
        for f in fields(self):
            setattr(self, f.name, getattr(other, f.name))


deps = Deps()
