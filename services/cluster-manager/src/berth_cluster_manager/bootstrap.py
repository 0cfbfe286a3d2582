"""cluster-manager's composition root: declares its handlers and queries on ``app`` and wires
the dependencies they use (settings, cluster providers)."""

from __future__ import annotations

from berth_common.runtime import ServiceApp

from . import access_queries, handlers, join_queries, queries  # noqa: F401  (declare the commands and queries on app)
from .app import app
from .config import ClusterManagerSettings
from .deps import wiring
from .providers import Providers


def bootstrap(settings: ClusterManagerSettings | None = None, *, providers: Providers | None = None) -> ServiceApp:
    """The service ready to start. ``providers`` default to those ``settings`` configure, made at
    start (the local provider keeps its clusters under the service's data directory)."""
    wiring.configure(settings=settings or ClusterManagerSettings(), providers=providers)
    return app
