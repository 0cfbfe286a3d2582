"""Gateway settings (BERTH_GATEWAY_*); the bootstrap admin token is BERTH_ADMIN_TOKEN."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BERTH_GATEWAY_", extra="ignore", populate_by_name=True)

    host: str = "127.0.0.1"
    # PEM files: with both the gateway serves HTTPS only; with neither it refuses to start unless
    # insecure_http says plain HTTP is wanted (local development)
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    insecure_http: bool = False
    port: int = Field(default=8080, ge=0, le=65535)
    admin_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("BERTH_ADMIN_TOKEN", "BERTH_GATEWAY_ADMIN_TOKEN")
    )
    oidc_issuer: str = ""
    oidc_audience: str = ""
    oidc_jwks_url: str = ""
    oidc_user_claim: str = "sub"
    oidc_groups_claim: str = "groups"  # IdP groups bound to roles like users (members with "group")
    rate_per_second: float = Field(default=50.0, gt=0)
    rate_burst: int = Field(default=100, ge=1)
    # callers that did not authenticate (no token, a bad token, a refused hook), per client address
    anon_rate_per_second: float = Field(default=1.0, gt=0)
    anon_rate_burst: int = Field(default=30, ge=1)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    query_timeout: float = Field(default=5.0, gt=0)
    dingtalk_app_secret: SecretStr | None = None
    feishu_verification_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    chat_replay_window: int = Field(default=300, ge=1, description="seconds a chat signature is valid (and remembered)")
    # Alertmanager and registries send it as Authorization: Bearer <token>; without it the hooks refuse
    hooks_token: SecretStr | None = Field(default=None, description="bearer token Alertmanager / registries send")
    feishu_encrypt_key: SecretStr | None = None
