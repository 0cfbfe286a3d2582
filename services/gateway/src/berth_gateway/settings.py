"""Gateway settings (BERTH_GATEWAY_*)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BERTH_GATEWAY_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8080
