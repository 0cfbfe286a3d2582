"""Each service's environment built exactly as its image's build stage does (Dockerfile):

    uv sync --frozen --no-dev --no-editable --package berth-<service>   (UV_PROJECT_ENVIRONMENT=<its dir>)

into ``${BERTH_IMAGES_CACHE:-~/.cache/berth/images}/<hash>/<service>``, where the hash covers
uv.lock, the root pyproject and every source file the images copy (tests excluded): a change to
any of them builds new environments; otherwise the session reuses them (~2 s each to build)."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SERVICES = (
    "cluster-manager",
    "node-manager",
    "registry-sync",
    "release-orchestrator",
    "monitor-alert",
    "dr-switcher",
    "gateway",
)
# what the Dockerfile's build stage copies
SOURCES = ("pyproject.toml", "uv.lock", "libs", "services", "src")
KEEP = 3  # newest cached builds kept


def package(service: str) -> str:
    return "berth_" + service.replace("-", "_")


def cache_dir() -> Path:
    explicit = os.environ.get("BERTH_IMAGES_CACHE")
    return Path(explicit) if explicit else Path.home() / ".cache" / "berth" / "images"


def _files() -> Iterator[Path]:
    for top in SOURCES:
        path = ROOT / top
        if path.is_file():
            yield path
            continue
        for f in sorted(path.rglob("*")):
            rel = f.relative_to(ROOT).parts
            if not f.is_file() or "tests" in rel or "__pycache__" in rel or f.suffix in (".pyc", ".pyo"):
                continue
            if any(part.startswith(".") for part in rel):
                continue
            yield f


def source_hash() -> str:
    h = hashlib.sha256()
    for f in _files():
        h.update(str(f.relative_to(ROOT)).encode() + b"\0")
        h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()[:16]


@dataclass(frozen=True)
class Image:
    service: str
    env: Path

    @property
    def site_packages(self) -> Path:
        found = sorted(self.env.glob("lib/python3*/site-packages"))
        if not found:
            raise FileNotFoundError(f"no site-packages in {self.env}")
        return found[0]

    def script(self, name: str) -> Path:
        return self.env / "bin" / name

    def berth_packages(self) -> set[str]:
        """Top-level importable berth packages in the environment."""
        return {
            p.name
            for p in self.site_packages.iterdir()
            if p.is_dir() and p.name.startswith("berth") and not p.name.endswith((".dist-info", ".egg-info"))
        }


def _sync(service: str, env: Path, log: Path) -> None:
    uv = os.environ.get("UV") or shutil.which("uv") or "uv"
    argv = [uv, "sync", "--frozen", "--no-dev", "--no-editable", "--package", f"berth-{service}"]
    argv += ["--python", sys.executable]
    # uv keys its cache of a local package's built wheel on pyproject.toml alone: without this a
    # changed source file would ship the last build's code (a Docker build starts from an empty cache)
    for member in ("berth-common", "berth-schema", f"berth-{service}"):
        argv += ["--refresh-package", member, "--reinstall-package", member]
    environ = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")}
    environ.update(UV_PROJECT_ENVIRONMENT=str(env), UV_PYTHON_DOWNLOADS="never")
    with log.open("ab") as out:
        done = subprocess.run(argv, cwd=ROOT, env=environ, stdout=out, stderr=subprocess.STDOUT, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"building {service}'s environment failed ({' '.join(argv)}):\n{log.read_text()[-3000:]}")
    for tests in env.glob("lib/python3*/site-packages/*/tests"):  # as the Dockerfile does
        shutil.rmtree(tests)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def build_images() -> dict[str, Image]:
    """Every service's environment, built unless this source tree's build is cached."""
    root = cache_dir()
    digest = source_hash()
    build = root / digest
    with _locked(root / ".lock"):
        for service in SERVICES:
            env = build / service
            if (env / ".complete").exists():
                continue
            if env.exists():
                shutil.rmtree(env)
            env.parent.mkdir(parents=True, exist_ok=True)
            _sync(service, env, build / f"{service}.log")
            (env / ".complete").write_text(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) + "\n")
        _prune(root, keep=build)
    return {s: Image(s, build / s) for s in SERVICES}


def _prune(root: Path, *, keep: Path) -> None:
    builds = sorted((p for p in root.iterdir() if p.is_dir() and p != keep), key=lambda p: p.stat().st_mtime)
    for old in builds[: max(0, len(builds) - (KEEP - 1))]:
        shutil.rmtree(old, ignore_errors=True)
