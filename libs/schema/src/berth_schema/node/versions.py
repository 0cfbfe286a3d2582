"""Kubernetes version strings."""

from __future__ import annotations

import re

_VERSION = re.compile(r"^v\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$")


def check_version(version: str, *, field: str = "version") -> str:
    if not _VERSION.match(version):
        raise ValueError(f"{field}: {version!r} is not a Kubernetes version like v1.31.2")
    return version
