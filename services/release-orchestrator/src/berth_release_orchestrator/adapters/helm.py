"""Chart templates rendered with ``helm template`` (through pyhelm3).

The helm binary is found like the other parts: ``BERTH_BIN_HELM``, ``$KUBEBUILDER_ASSETS/helm``,
``$BERTH_PARTS_CACHE/helm-<version>/bin/helm`` (default cache ``~/.cache/berth/parts``), then PATH."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from pyhelm3 import Client

HELM_VERSION = os.environ.get("BERTH_HELM_VERSION", "v3.19.5")


class HelmMissing(RuntimeError):
    pass


class RenderFailed(RuntimeError):
    pass


def find_helm() -> str:
    tried: list[str] = []
    candidates: list[Path] = []
    if os.environ.get("BERTH_BIN_HELM"):
        candidates.append(Path(os.environ["BERTH_BIN_HELM"]))
    if os.environ.get("KUBEBUILDER_ASSETS"):
        candidates.append(Path(os.environ["KUBEBUILDER_ASSETS"]) / "helm")
    cache = Path(os.environ.get("BERTH_PARTS_CACHE") or Path.home() / ".cache/berth/parts")
    candidates.append(cache / f"helm-{HELM_VERSION}" / "bin" / "helm")
    for path in candidates:
        tried.append(str(path))
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    on_path = shutil.which("helm")
    if on_path:
        return on_path
    raise HelmMissing(
        f"helm not found (looked in {', '.join(tried)} and PATH). Build it with scripts/build-go-parts.sh "
        "or point BERTH_BIN_HELM at a helm binary."
    )


async def render(
    *,
    chart: str,
    release: str,
    namespace: str,
    values: dict[str, Any],
    repo: str | None = None,
    version: str | None = None,
) -> list[dict[str, Any]]:
    """The chart's objects for this release, as dicts (``helm template``)."""
    client = Client(executable=find_helm())
    try:
        ref = await client.get_chart(chart, repo=repo, version=version)
        objs = await client.template_resources(ref, release, values, namespace=namespace)
    except Exception as exc:  # pyhelm3 raises its own error types per helm failure
        raise RenderFailed(f"helm template {chart}: {str(exc).strip()[:500]}") from None
    return [dict(o) for o in objs if o]
