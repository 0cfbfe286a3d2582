"""A registry Berth replicates from or to. Its password is a secret: kept apart, never shown."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_serializer, field_validator

from .names import NAME, TENANT

REDACTED = "********"


class RegistrySpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant: str = TENANT
    name: str = NAME
    url: str = Field(min_length=8, max_length=2048, description="http(s)://host[:port], no path")
    kind: Literal["distribution", "harbor"] = "distribution"
    username: str | None = Field(default=None, max_length=255)
    password: SecretStr | None = None
    insecure: bool = Field(default=False, description="skip TLS certificate verification")
    ca_bundle: str | None = Field(default=None, max_length=262_144, description="PEM CA certificates to trust")
    description: str = Field(default="", max_length=1024)

    @field_serializer("password", when_used="json")
    def _reveal(self, v: SecretStr | None) -> str | None:
        # JSON is the wire form of the put-registry command and must carry the secret; repr() and
        # public() never do
        return v.get_secret_value() if v is not None else None

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        from yarl import URL

        u = URL(v.rstrip("/"))
        if u.scheme not in ("http", "https") or not u.host:
            raise ValueError("url must be http(s)://host[:port]")
        if u.path not in ("", "/") or u.query_string:
            raise ValueError("url must not have a path or query (the API lives under /v2/)")
        return str(u).rstrip("/")

    @field_validator("ca_bundle")
    @classmethod
    def _pem(cls, v: str | None) -> str | None:
        if v is not None and "-----BEGIN CERTIFICATE-----" not in v:
            raise ValueError("ca_bundle must be PEM text with at least one CERTIFICATE block")
        return v

    @property
    def host(self) -> str:
        return self.url.split("://", 1)[1]

    def public(self) -> dict[str, Any]:
        """The document stored and shown: everything but the password."""
        data = self.model_dump(mode="json", exclude={"password"})
        data["password"] = REDACTED if self.password is not None else None
        return data

    def secret(self) -> dict[str, Any]:
        """The document kept in the secrets collection."""
        return {"password": self.password.get_secret_value() if self.password is not None else None}

    @classmethod
    def restore(cls, public: dict[str, Any], secret: dict[str, Any] | None) -> RegistrySpec:
        data = {k: v for k, v in public.items() if k != "password"}
        if secret and secret.get("password") is not None:
            data["password"] = secret["password"]
        return cls.model_validate(data)
