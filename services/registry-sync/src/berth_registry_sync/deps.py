"""What registry-sync's handlers, runner and scheduler depend on from outside: the clock and how
an OCI registry client is made for a registry. ``bootstrap`` wires them; defaults are the real ones."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from berth_schema.registry.registries import RegistrySpec

from .oci import Endpoint, RegistryClient

Clock = Callable[[], datetime]
ClientFactory = Callable[[RegistrySpec], RegistryClient]


def system_now() -> datetime:
    return datetime.now(UTC)


def registry_client(spec: RegistrySpec) -> RegistryClient:
    """An OCI client for ``spec`` with its credentials, TLS settings and CA bundle."""
    endpoint = Endpoint(
        url=spec.url,
        username=spec.username,
        password=spec.password.get_secret_value() if spec.password is not None else None,
        insecure=spec.insecure,
        ca_bundle=spec.ca_bundle,
    )
    return RegistryClient(endpoint)


@dataclass
class Wiring:
    clock: Clock = system_now
    clients: ClientFactory = registry_client
    scheduler_tick: float = 10.0


wiring = Wiring()


def now() -> datetime:
    return wiring.clock()
