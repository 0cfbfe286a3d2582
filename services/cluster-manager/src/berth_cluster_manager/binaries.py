"""Where the local provider finds control-plane binaries (envtest conventions).

Lookup order for ``name`` at ``version``:
1. ``BERTH_BIN_<NAME>`` (e.g. ``BERTH_BIN_KUBE_APISERVER``), a single pinned binary;
2. ``$KUBEBUILDER_ASSETS/<name>``;
3. ``$BERTH_PARTS_CACHE/<part>-<version>/bin/<name>`` (default ``~/.cache/berth/parts``),
   which ``scripts/build-go-parts.sh`` fills.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from .domain.versions import etcd_version

PARTS: dict[str, str] = {
    "kube-apiserver": "kube",
    "kube-controller-manager": "kube",
    "kube-scheduler": "kube",
    "kubectl": "kube",
    "etcd": "etcd",
    "kwok": "kwok",  # simulates the nodes (and their pods) of a local cluster
}
KWOK_VERSION = os.environ.get("BERTH_KWOK_VERSION", "v0.7.0")  # libs/testkit/.../parts-versions.env


class BinaryMissing(RuntimeError):
    """A binary the local provider needs is not installed; the message says how to get it."""


def cache_root() -> Path:
    return Path(os.environ.get("BERTH_PARTS_CACHE") or Path.home() / ".cache/berth/parts")


def part_version(name: str, kube_version: str) -> str:
    """The part version for a Kubernetes version: itself for kube binaries, the paired etcd for etcd,
    kwok's own for kwok."""
    if PARTS[name] == "kwok":
        return KWOK_VERSION
    return f"v{etcd_version(kube_version)}" if PARTS[name] == "etcd" else kube_version


def find(name: str, *, kube_version: str) -> str:
    if name not in PARTS:
        raise KeyError(f"unknown control-plane binary {name!r}")
    var = "BERTH_BIN_" + re.sub(r"[^A-Z0-9]", "_", name.upper())
    tried: list[Path] = []
    if os.environ.get(var):
        tried.append(Path(os.environ[var]))
    if os.environ.get("KUBEBUILDER_ASSETS"):
        tried.append(Path(os.environ["KUBEBUILDER_ASSETS"]) / name)
    version = part_version(name, kube_version)
    tried.append(cache_root() / f"{PARTS[name]}-{version}" / "bin" / name)
    for path in tried:
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    raise BinaryMissing(
        f"{name} {version} not found (looked in {', '.join(map(str, tried))}). Build it with "
        f"scripts/build-go-parts.sh (BERTH_{PARTS[name].upper()}_VERSION={version}), or point {var} "
        "or KUBEBUILDER_ASSETS at a prebuilt binary."
    )
