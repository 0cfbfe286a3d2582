"""cluster-manager's own settings (``BERTH_CM_*``), beside the common ServiceSettings."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ClusterManagerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BERTH_CM_", extra="ignore")

    host_kubeconfig: str = Field(
        default="", description="kubeconfig of the host cluster for hosted control planes; empty: in-cluster if any"
    )
    image_registry: str = "registry.k8s.io"
    etcd_storage_class: str | None = None
    backup_storage_class: str | None = None
    api_service_type: str = "ClusterIP"
    api_public_url: str = Field(
        default="",
        description="hosted: URL template ({cluster}, {tenant}, {namespace}) machines join through; in the API cert",
    )
    ready_timeout: float = Field(default=300.0, gt=0)
    cert_check_interval: float = Field(default=3600.0, gt=0, description="seconds between certificate renewal checks")
    local_controllers: bool = True
