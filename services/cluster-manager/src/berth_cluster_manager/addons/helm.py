"""Runs the ``helm`` binary against a tenant cluster: install/upgrade and uninstall a release
from a chart shipped with cluster-manager. The tenant kubeconfig goes to a 0600 temporary
file that is removed afterwards; it never reaches a log."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml

from ..binaries import BinaryMissing, cache_root

CHARTS = Path(__file__).with_name("charts")
HELM_VERSION = "v3.19.5"
HELM_TIMEOUT = 120.0


class HelmFailed(RuntimeError):
    pass


def helm_binary() -> str:
    """BERTH_BIN_HELM, then the parts cache (helm-<version>), then PATH."""
    tried = []
    override = os.environ.get("BERTH_BIN_HELM")
    if override:
        tried.append(override)
    version = os.environ.get("BERTH_HELM_VERSION") or HELM_VERSION
    tried.append(str(cache_root() / f"helm-{version}" / "bin" / "helm"))
    for path in tried:
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    found = shutil.which("helm")
    if found:
        return found
    raise BinaryMissing(
        f"helm not found (looked in {', '.join(tried)} and PATH). Build it with scripts/build-go-parts.sh "
        "or point BERTH_BIN_HELM at a helm binary."
    )


def chart_version(chart: str) -> str:
    doc = yaml.safe_load((CHARTS / chart / "Chart.yaml").read_text())
    return f"{doc['version']} (app {doc.get('appVersion', '?')})"


class Helm:
    def __init__(self, *, work_dir: Path) -> None:
        self.work_dir = work_dir

    async def _run(self, kubeconfig: dict[str, Any], *args: str) -> str:
        self.work_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tempfile.TemporaryDirectory(dir=self.work_dir) as tmp:
            kc = Path(tmp) / "kubeconfig"
            kc.write_text(yaml.safe_dump(kubeconfig))
            kc.chmod(0o600)
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "HOME": tmp,
                "HELM_CACHE_HOME": f"{tmp}/cache",
                "HELM_CONFIG_HOME": f"{tmp}/config",
                "HELM_DATA_HOME": f"{tmp}/data",
                "KUBECONFIG": str(kc),
            }
            proc = await asyncio.create_subprocess_exec(
                helm_binary(), *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
            )
            try:
                async with asyncio.timeout(HELM_TIMEOUT):
                    out, err = await proc.communicate()
            except TimeoutError:
                proc.kill()
                await proc.wait()
                raise HelmFailed(f"helm {args[0]} did not finish in {HELM_TIMEOUT:.0f}s") from None
            if proc.returncode != 0:
                raise HelmFailed(f"helm {args[0]} failed: {err.decode(errors='replace').strip()[-2000:]}")
            return out.decode()

    async def install(
        self, kubeconfig: dict[str, Any], *, release: str, chart: str, namespace: str, values: dict[str, Any]
    ) -> dict[str, Any]:
        """``helm upgrade --install``; returns helm's release status document."""
        self.work_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tempfile.NamedTemporaryFile("w", suffix=".json", dir=self.work_dir, delete=False) as f:
            json.dump(values, f)
            values_file = f.name
        try:
            out = await self._run(
                kubeconfig,
                "upgrade",
                "--install",
                release,
                str(CHARTS / chart),
                "--namespace",
                namespace,
                "--create-namespace",
                "--values",
                values_file,
                "--output",
                "json",
                "--history-max",
                "5",
            )
        finally:
            os.unlink(values_file)
        doc: dict[str, Any] = json.loads(out)
        return doc

    async def uninstall(self, kubeconfig: dict[str, Any], *, release: str, namespace: str) -> None:
        await self._run(kubeconfig, "uninstall", release, "--namespace", namespace, "--ignore-not-found")

    async def status(self, kubeconfig: dict[str, Any], *, release: str, namespace: str) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(
            await self._run(kubeconfig, "status", release, "--namespace", namespace, "--output", "json")
        )
        return doc
