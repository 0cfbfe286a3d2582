"""The composition root of monitor-alert: settings and dependencies in, a ready app out.

app = bootstrap(MonitorSettings(retry_base_seconds=0.05), clock=FakeClock(), sender=Sender())
await app.start(service_settings)
"""

from __future__ import annotations

from berth_common.clock import Clock
from berth_common.runtime import ServiceApp

from . import handlers, queries  # noqa: F401  (declare handlers, queries and loops on the app)
from .adapters.alertmanager_api import Alertmanagers
from .adapters.prometheus_api import Prometheus
from .adapters.senders import Sender
from .app import app
from .config import Deps, MonitorSettings, deps


def bootstrap(
    settings: MonitorSettings | None = None,
    *,
    clock: Clock | None = None,
    sender: Sender | None = None,
    alertmanagers: Alertmanagers | None = None,
    prometheus: Prometheus | None = None,
) -> ServiceApp:
    """Wire monitor-alert's dependencies onto its app and return the app.

    ``sender`` delivers to chat robots, webhooks and SMTP; ``alertmanagers`` receive pushed
    silences (default: ``BERTH_MONITOR_ALERTMANAGER_URLS``); ``prometheus`` answers metric
    scaling policies (default: ``BERTH_MONITOR_PROMETHEUS_URL``, none when unset)."""
    settings = settings or MonitorSettings()
    if prometheus is None and settings.prometheus_url:
        prometheus = Prometheus(settings.prometheus_url)
    deps.take(
        Deps(
            settings=settings,
            clock=clock or Clock(),
            sender=sender or Sender(),
            alertmanagers=alertmanagers if alertmanagers is not None else Alertmanagers(settings.alertmanagers()),
            prometheus=prometheus,
        )
    )
    return app
