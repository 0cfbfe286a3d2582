"""The CLI's saved login: ~/.config/berth/config.json (0600), or $BERTH_CONFIG."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class CliConfig:
    server: str = ""
    token: str = ""
    tenant: str = ""
    ca_file: str = ""  # the CA the gateway's certificate is verified with (`berth login --ca-file`)


def config_path() -> Path:
    explicit = os.environ.get("BERTH_CONFIG")
    if explicit:
        return Path(explicit)
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "berth" / "config.json"


def load() -> CliConfig:
    path = config_path()
    if not path.exists():
        return CliConfig()
    data = json.loads(path.read_text())
    return CliConfig(**{k: str(v) for k, v in data.items() if k in CliConfig.__dataclass_fields__})


def save(cfg: CliConfig) -> Path:
    """Write the config with mode 0600 (created that way: the token never sits world-readable)."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(asdict(cfg), f, indent=2)
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return path
