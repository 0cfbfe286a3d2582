"""A config-center entry (配置中心) as the set-config command carries it: one app's ConfigMap or
Secret in one environment. Every set-config writes a new version of it."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .workload import DNS_LABEL

KEY = r"^[-._a-zA-Z0-9]+$"
MAX_BYTES = 1024 * 1024  # the API server's object size limit


class ConfigSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=63, pattern=DNS_LABEL)
    app: str = Field(min_length=1, max_length=63, pattern=DNS_LABEL)
    environment: str = Field(min_length=1, max_length=32, pattern=DNS_LABEL)
    cluster: str = Field(min_length=1, max_length=63, pattern=DNS_LABEL)
    namespace: str = Field(min_length=1, max_length=63, pattern=DNS_LABEL)
    kind: Literal["ConfigMap", "Secret"] = "ConfigMap"
    data: dict[str, str]
    labels: dict[str, str] = Field(default_factory=dict)
    description: str = Field(default="", max_length=255)

    @field_validator("data")
    @classmethod
    def _keys(cls, v: dict[str, str]) -> dict[str, str]:
        for k in v:
            if not re.match(KEY, k) or len(k) > 253:
                raise ValueError(f"key {k!r} may hold only letters, digits, '-', '_' and '.' (at most 253)")
        if sum(len(k) + len(x.encode()) for k, x in v.items()) > MAX_BYTES:
            raise ValueError("more than 1 MiB of data; split it into several configs")
        return v
