"""Service settings read from BERTH_* environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """What every Berth service reads from its environment.

    ``BERTH_NATS_URL`` may list several servers separated by commas (a NATS cluster).
    ``BERTH_STORE_URL`` is ``sqlite:///path.db``, ``mongodb://...`` or ``memory://``;
    when empty, a SQLite file named after the service in ``BERTH_DATA_DIR`` is used.
    """

    model_config = SettingsConfigDict(env_prefix="BERTH_", extra="ignore")

    nats_url: str = "nats://127.0.0.1:4222"
    nats_user: str = Field(default="", description="this service's NATS user (its bus permissions); empty: none")
    nats_password: SecretStr | None = None
    store_url: str = ""
    data_dir: Path = Path(".berth")
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=0, ge=0, le=65535, description="side port for /healthz, /readyz, /metrics; 0 = any")
    log_level: str = "INFO"
    log_json: bool = True
    drain_timeout: float = Field(default=25.0, gt=0, description="seconds SIGTERM waits for in-flight work")
    stream_replicas: int = Field(default=1, ge=1, le=5)
    instance: str = ""
    otel_exporter: str = Field(default="none", description="none | console | otlp")
    mongodb_database: str = "berth"
    admin_token: SecretStr | None = None

    def nats_servers(self) -> list[str]:
        return [s.strip() for s in self.nats_url.split(",") if s.strip()]

    def store_url_for(self, service: str) -> str:
        if self.store_url:
            return self.store_url
        return f"sqlite:///{(self.data_dir / f'{service}.db').resolve()}"
