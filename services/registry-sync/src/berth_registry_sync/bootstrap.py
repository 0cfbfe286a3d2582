"""registry-sync's composition root: the app with its handlers, queries and scheduler, and the
dependencies they use wired in (the real ones unless a caller passes others)."""

from __future__ import annotations

from berth_common.runtime import ServiceApp

from . import handlers, scheduler  # noqa: F401  (they declare handlers, queries and loops on the app)
from .app import app
from .deps import ClientFactory, Clock, registry_client, system_now, wiring
from .settings import RegistrySyncSettings


def bootstrap(
    settings: RegistrySyncSettings | None = None,
    *,
    clock: Clock | None = None,
    clients: ClientFactory | None = None,
) -> ServiceApp:
    """Wire registry-sync. ``clock`` stamps executions, DR marks and schedules; ``clients`` makes the
    OCI client for a registry (credentials included). The store is the one ``app.start`` opens or
    is given."""
    settings = settings or RegistrySyncSettings()
    wiring.clock = clock or system_now
    wiring.clients = clients or registry_client
    wiring.scheduler_tick = settings.registry_sync_tick_seconds
    return app
