"""Field constraints shared by the domain models."""

from __future__ import annotations

from pydantic import Field

NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
TENANT = Field(min_length=1, max_length=63, pattern=NAME_PATTERN)
NAME = Field(min_length=1, max_length=63, pattern=NAME_PATTERN)
