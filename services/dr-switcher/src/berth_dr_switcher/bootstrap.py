"""The composition root of dr-switcher: settings and dependencies in, a ready app out.

app = bootstrap(DrSettings(lease_seconds=3), dns_providers={"default": PowerDnsProvider(...)})
await app.start(service_settings)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from berth_common.clock import Clock
from berth_common.runtime import ServiceApp

from . import handlers, queries  # noqa: F401  (declare handlers, queries and the prober on the app)
from .adapters.powerdns import PowerDnsProvider
from .adapters.probes import Prober
from .app import app
from .config import Deps, DrSettings, deps


def bootstrap(
    settings: DrSettings | None = None,
    *,
    clock: Clock | None = None,
    prober: Prober | None = None,
    dns_providers: Mapping[str, PowerDnsProvider] | None = None,
    kubeconfigs: Mapping[str, Path] | None = None,
) -> ServiceApp:
    """Wire dr-switcher's dependencies onto its app and return the app.

    ``prober`` probes the sites; ``dns_providers`` move DNS records by provider name (``default``
    comes from ``BERTH_DR_PDNS_*`` when not given); ``kubeconfigs`` reach the clusters whose
    ingress weights a group moves (else ``BERTH_DR_KUBECONFIG_DIR/<cluster>.kubeconfig``)."""
    deps.take(
        Deps(
            settings=settings or DrSettings(),
            clock=clock or Clock(),
            prober=prober or Prober(),
            dns_providers=dict(dns_providers or {}),
            kubeconfigs=dict(kubeconfigs or {}),
        )
    )
    return app
