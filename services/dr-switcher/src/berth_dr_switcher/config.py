"""dr-switcher's own settings (BERTH_DR_*) and the dependencies ``bootstrap`` wires in."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

from berth_common.clock import Clock
from kubernetes_asyncio.client import ApiClient
from kubernetes_asyncio.config import new_client_from_config
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from .adapters.powerdns import PowerDnsProvider
from .adapters.probes import Prober


class DrSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BERTH_DR_", extra="ignore")

    pdns_api_url: str = Field(default="", description="http://host:8081/api/v1/servers/localhost")
    pdns_api_key: SecretStr | None = None
    pdns_verify: str = Field(default="", description="comma-separated ip:port of servers that must answer a switch")
    pdns_verify_seconds: float = 10.0
    kubeconfig_dir: str = Field(default="", description="<dir>/<cluster>.kubeconfig per cluster of ingress groups")
    lease_seconds: float = Field(default=10.0, gt=0)
    refresh_seconds: float = Field(default=2.0, gt=0, description="how often the leader re-reads the group list")


def parse_servers(text: str) -> list[tuple[str, int]]:
    out = []
    for item in (s.strip() for s in text.split(",")):
        if not item:
            continue
        host, _, port = item.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"BERTH_DR_PDNS_VERIFY: {item!r} is not ip:port")
        out.append((host, int(port)))
    return out


class NoProvider(Exception):
    pass


@dataclass
class Deps:
    settings: DrSettings = field(default_factory=DrSettings)
    clock: Clock = field(default_factory=Clock)
    prober: Prober = field(default_factory=Prober)
    dns_providers: dict[str, PowerDnsProvider] = field(default_factory=dict)
    kubeconfigs: dict[str, Path] = field(default_factory=dict)

    def dns_provider(self, name: str) -> PowerDnsProvider:
        if name in self.dns_providers:
            return self.dns_providers[name]
        s = self.settings
        if name == "default" and s.pdns_api_url and s.pdns_api_key is not None:
            provider = PowerDnsProvider(
                api_url=s.pdns_api_url,
                api_key=s.pdns_api_key.get_secret_value(),
                verify=parse_servers(s.pdns_verify),
                verify_seconds=s.pdns_verify_seconds,
            )
            self.dns_providers[name] = provider
            return provider
        raise NoProvider(f"DNS provider {name!r} is not configured (BERTH_DR_PDNS_API_URL / BERTH_DR_PDNS_API_KEY)")

    def take(self, other: Deps) -> None:
        """Become ``other`` (handlers hold this object; ``bootstrap`` swaps what it carries)."""
        for f in fields(self):
            setattr(self, f.name, getattr(other, f.name))

    async def kube_client(self, cluster: str) -> ApiClient:
        path = self.kubeconfigs.get(cluster)
        if path is None and self.settings.kubeconfig_dir:
            path = Path(self.settings.kubeconfig_dir) / f"{cluster}.kubeconfig"
        if path is None or not path.is_file():
            raise NoProvider(f"no kubeconfig for cluster {cluster!r} (BERTH_DR_KUBECONFIG_DIR/{cluster}.kubeconfig)")
        client: ApiClient = await new_client_from_config(config_file=str(path))
        return client


deps = Deps()
