"""Where the real parts' binaries are: prebuilt, cached by version, or from Debian.

Lookup order for a Go-built part (kube-apiserver, etcd, kwok, helm, ferretdb, ...):
1. ``BERTH_BIN_<NAME>`` (e.g. ``BERTH_BIN_KUBE_APISERVER=/opt/k8s/kube-apiserver``);
2. ``$KUBEBUILDER_ASSETS/<name>`` (the envtest convention: kube-apiserver, etcd, kubectl);
3. ``$BERTH_PARTS_CACHE/<part>-<version>/bin/<name>`` (default cache ``~/.cache/berth/parts``),
   where ``scripts/install-parts.sh`` builds them.
A missing binary raises ``PartMissing`` telling how to get it; tests never skip.
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path

from .procs import PartMissing, which_or_fail

INSTALL_HINT = "To get it: run scripts/install-parts.sh (it builds/installs every part the tests use)."

VERSIONS_FILE = Path(__file__).with_name("parts-versions.env")

# binary name -> the part (cache directory prefix) that builds it
GO_BINARIES: dict[str, str] = {
    "kube-apiserver": "kube",
    "kube-controller-manager": "kube",
    "kube-scheduler": "kube",
    "kubectl": "kube",
    "kubelet": "kube",
    "kube-proxy": "kube",
    "etcd": "etcd",
    "kwok": "kwok",
    "helm": "helm",
    "ferretdb": "ferretdb",
}

# binary name -> the Debian package that ships it
DEBIAN_BINARIES: dict[str, str] = {
    "docker-registry": "docker-registry",
    "prometheus": "prometheus",
    "prometheus-alertmanager": "prometheus-alertmanager",
    "pdns_server": "pdns-server",
    "skopeo": "skopeo",
    "chromium": "chromium",
    "sqlite3": "sqlite3",
    "dig": "dnsutils",
    # the real node (berth_testkit.realnode) and the images it runs (berth_testkit.images)
    "containerd": "containerd",
    "ctr": "containerd",
    "containerd-shim-runc-v2": "containerd",
    "runc": "runc",
    "iptables": "iptables",
    "iptables-save": "iptables",
    "ip6tables": "iptables",
    "ip6tables-save": "iptables",
    "busybox": "busybox-static",
}

# Debian's containernetworking-plugins puts the CNI plugins here, off PATH
CNI_PLUGIN_DIR = Path("/usr/lib/cni")
CNI_PLUGINS_PACKAGE = "containernetworking-plugins"


@cache
def _default_versions() -> dict[str, str]:
    versions: dict[str, str] = {}
    for line in VERSIONS_FILE.read_text().splitlines():
        m = re.fullmatch(r"\s*([A-Z0-9_]+)=(\S+)\s*", line)
        if m:
            versions[m.group(1)] = m.group(2)
    return versions


def version(part: str) -> str:
    """The version of a Go-built part (``kube``, ``etcd``, ...), honouring BERTH_<PART>_VERSION."""
    key = part.upper()
    defaults = _default_versions()
    if key not in defaults:
        raise KeyError(f"unknown part {part!r}; known: {sorted(defaults)}")
    return os.environ.get(f"BERTH_{key}_VERSION") or defaults[key]


def cache_root() -> Path:
    return Path(os.environ.get("BERTH_PARTS_CACHE") or Path.home() / ".cache/berth/parts")


def _override_var(name: str) -> str:
    return "BERTH_BIN_" + re.sub(r"[^A-Z0-9]", "_", name.upper())


def binary(name: str) -> str:
    """The path of an executable part; raises PartMissing with how to get it."""
    override = os.environ.get(_override_var(name))
    if override:
        if Path(override).is_file() and os.access(override, os.X_OK):
            return override
        raise PartMissing(f"{_override_var(name)}={override} is not an executable file.")
    if name in GO_BINARIES:
        return _go_binary(name)
    if name in DEBIAN_BINARIES:
        return which_or_fail(name, how=f"It comes from the Debian package {DEBIAN_BINARIES[name]}. {INSTALL_HINT}")
    raise KeyError(f"unknown part binary {name!r}")


def cni_plugins(*names: str) -> Path:
    """The directory holding the CNI plugins ``names`` (``BERTH_CNI_BIN_DIR`` or Debian's
    /usr/lib/cni); raises PartMissing with how to get them."""
    directory = Path(os.environ.get("BERTH_CNI_BIN_DIR") or CNI_PLUGIN_DIR)
    missing = [n for n in names if not os.access(directory / n, os.X_OK)]
    if missing:
        raise PartMissing(
            f"CNI plugins {', '.join(missing)} not found in {directory}. They come from the Debian package "
            f"{CNI_PLUGINS_PACKAGE}. {INSTALL_HINT} Or point BERTH_CNI_BIN_DIR at a directory holding them."
        )
    return directory


def _go_binary(name: str) -> str:
    part = GO_BINARIES[name]
    tried: list[Path] = []
    assets = os.environ.get("KUBEBUILDER_ASSETS")
    if assets:
        tried.append(Path(assets) / name)
    tried.append(cache_root() / f"{part}-{version(part)}" / "bin" / name)
    for path in tried:
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    looked = ", ".join(str(p) for p in tried)
    raise PartMissing(
        f"{name} ({part} {version(part)}) not found (looked in {looked}). {INSTALL_HINT} "
        f"Or point {_override_var(name)} or KUBEBUILDER_ASSETS at a prebuilt binary."
    )
