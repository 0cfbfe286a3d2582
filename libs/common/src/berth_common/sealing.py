"""Secrets at rest (registry passwords, tenant kubeconfigs): Fernet-sealed (AES-128-CBC +
HMAC-SHA256, from ``cryptography``).

The key comes from ``BERTH_SECRETS_KEY`` (a Fernet key; set it from a Kubernetes Secret so every
replica shares it) or, for the embedded single-machine default, a key file created in the data dir.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

PREFIX = "fernet:"
KEY_ENV = "BERTH_SECRETS_KEY"


class SecretUnreadable(RuntimeError):
    """A sealed secret that this key cannot open (the key changed)."""


class Sealer:
    def __init__(self, key: bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except ValueError as e:
            raise ValueError(f"{KEY_ENV}: not a Fernet key (32 url-safe base64 bytes): {e}") from None

    @classmethod
    def configured(cls, data_dir: Path, *, service: str) -> Sealer:
        """``BERTH_SECRETS_KEY``, else the service's 0600 key file ``<service>-secrets.key``."""
        env = os.environ.get(KEY_ENV)
        if env:
            return cls(env.encode())
        path = data_dir / f"{service}-secrets.key"
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as f:
                f.write(Fernet.generate_key())
        return cls(path.read_bytes().strip())

    def seal(self, text: str) -> str:
        return PREFIX + self._fernet.encrypt(text.encode()).decode()

    def unseal(self, stored: str) -> str:
        if not stored.startswith(PREFIX):
            return stored
        try:
            return self._fernet.decrypt(stored[len(PREFIX) :].encode()).decode()
        except InvalidToken:
            raise SecretUnreadable(f"a stored secret cannot be opened with this {KEY_ENV}") from None


class SealerSlot:
    """The sealer a service opens at startup (from its settings' data dir); using it before that
    is a programming error, said plainly."""

    def __init__(self, service: str) -> None:
        self.service = service
        self._sealer: Sealer | None = None

    def open(self, data_dir: Path) -> None:
        self._sealer = Sealer.configured(data_dir, service=self.service)

    def get(self) -> Sealer:
        if self._sealer is None:
            raise RuntimeError(f"{self.service}: secrets sealer not configured (the service has not started)")
        return self._sealer
