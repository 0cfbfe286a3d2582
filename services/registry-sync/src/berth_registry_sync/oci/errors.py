"""Errors the OCI distribution client raises; each message names the registry and what failed."""

from __future__ import annotations


class RegistryError(Exception):
    """A registry answered with an error or could not be reached."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class AuthenticationFailed(RegistryError):
    """The credentials were rejected (or none were given where the registry wants some)."""

    def __init__(self, registry: str, user: str | None) -> None:
        who = user if user else "anonymous"
        super().__init__(f"authentication failed for {registry} as {who}", status=401)
        self.registry = registry
        self.user = user


class NotFound(RegistryError):
    """The repository, manifest, blob or upload does not exist."""


class DigestMismatch(RegistryError):
    """Content did not hash to the digest it was asked for by; nothing was committed."""

    def __init__(self, what: str, expected: str, actual: str) -> None:
        super().__init__(f"digest mismatch for {what}: expected {expected}, got {actual}")
        self.expected = expected
        self.actual = actual


class UploadInterrupted(RegistryError):
    """A blob upload was cut and could not be resumed within the retry budget."""
