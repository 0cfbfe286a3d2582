"""The service runtime every Berth service starts on."""

from .service import ServiceApp
from .settings import ServiceSettings

__all__ = ["ServiceApp", "ServiceSettings"]
