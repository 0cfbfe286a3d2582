"""The settings the Helm chart gives each service, rendered by ``helm template`` from
deploy/helm/berth (with its CI values), so the test runs every service with what it would get in
its pod. Only what is tied to the pod's network and volumes is replaced: loopback addresses, free
ports, a data directory per service, and the Secret-backed values (store URL, secrets key, admin
token) get this test's real ones."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from typing import Any

import yaml
from berth_testkit.parts import binary, version

from .images import ROOT

CHART = ROOT / "deploy" / "helm" / "berth"
CI_VALUES = CHART / "ci" / "kwok-values.yaml"
# ConfigMap keys that name the pod's network or volume; the test replaces each of them
POD_LOCAL = {
    "BERTH_NATS_URL",
    "BERTH_HTTP_HOST",
    "BERTH_HTTP_PORT",
    "BERTH_DATA_DIR",
    "BERTH_GATEWAY_HOST",
    "BERTH_GATEWAY_PORT",
}
# env entries the chart fills from Secrets or the downward API
FROM_SECRETS = {
    "BERTH_STORE_URL",
    "BERTH_SECRETS_KEY",
    "BERTH_ADMIN_TOKEN",
    "BERTH_INSTANCE",
    "BERTH_NATS_PASSWORD",
    "BERTH_GATEWAY_HOOKS_TOKEN",
}


@dataclass(frozen=True)
class ServiceChart:
    command: list[str]
    env: dict[str, str]  # literal values: the ConfigMap's, then the container's own
    from_secrets: set[str]  # names the chart fills from Secrets / fieldRefs


def render(sets: dict[str, str]) -> list[dict[str, Any]]:
    argv = [binary("helm"), "template", "berth", str(CHART), "-f", str(CI_VALUES), "--kube-version", version("kube")]
    for key, value in sets.items():
        argv += ["--set-string", f"{key}={value}"]
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, f"{' '.join(argv)} failed:\n{done.stderr}"
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def services(docs: list[dict[str, Any]]) -> dict[str, ServiceChart]:
    config = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-config"))
    shared = {k: str(v) for k, v in config["data"].items()}
    missing = POD_LOCAL - set(shared)
    assert not missing, f"the chart's ConfigMap no longer sets {missing}: update POD_LOCAL"
    found: dict[str, ServiceChart] = {}
    for d in docs:
        if d["kind"] != "Deployment":
            continue
        service = d["metadata"]["labels"]["app.kubernetes.io/component"]
        (container,) = d["spec"]["template"]["spec"]["containers"]
        env, secrets = dict(shared), set()
        for e in container.get("env", []):
            if "value" in e:
                env[e["name"]] = str(e["value"])
            else:
                secrets.add(e["name"])
        unknown = secrets - FROM_SECRETS
        assert not unknown, f"{service}: the chart fills {unknown} from Secrets; give the test a value for them"
        found[service] = ServiceChart(command=list(container["command"]), env=env, from_secrets=secrets)
    return found


def chart_settings(sets: dict[str, str] | None = None) -> dict[str, ServiceChart]:
    """Each service's settings from the chart, with ``sets`` as an operator's ``--set`` values."""
    return services(render(sets or {}))
