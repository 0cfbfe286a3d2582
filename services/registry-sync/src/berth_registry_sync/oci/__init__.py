"""The OCI distribution client Berth copies images with (aiohttp only, no registry library)."""

from .client import Endpoint, Head, RegistryClient, RetryPolicy
from .copier import Copier, CopyOptions, CopyResult
from .errors import AuthenticationFailed, DigestMismatch, NotFound, RegistryError, UploadInterrupted
from .media import Descriptor, Manifest
from .throttle import TokenBucket

__all__ = [
    "AuthenticationFailed",
    "Copier",
    "CopyOptions",
    "CopyResult",
    "Descriptor",
    "DigestMismatch",
    "Endpoint",
    "Head",
    "Manifest",
    "NotFound",
    "RegistryClient",
    "RegistryError",
    "RetryPolicy",
    "TokenBucket",
    "UploadInterrupted",
]
