"""./scripts/up finds the parts local clusters need, or builds them (with progress and an
estimate), or says exactly what is missing and how to get it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VERSIONS = dict(
    line.split("=", 1)
    for line in (ROOT / "libs/testkit/src/berth_testkit/parts-versions.env").read_text().splitlines()
    if "=" in line and not line.startswith("#")
)
BINARIES = {
    "etcd": ("etcd", VERSIONS["ETCD"]),
    "kube-apiserver": ("kube", VERSIONS["KUBE"]),
    "kube-controller-manager": ("kube", VERSIONS["KUBE"]),
    "kube-scheduler": ("kube", VERSIONS["KUBE"]),
    "kwok": ("kwok", VERSIONS["KWOK"]),
}


def up(cache: Path, *args: str, without_go: bool = False) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BERTH_", "KUBEBUILDER_ASSETS"))}
    env["BERTH_PARTS_CACHE"] = str(cache)
    if without_go:
        dirs = env.get("PATH", "").split(os.pathsep)
        env["PATH"] = os.pathsep.join(d for d in dirs if not (Path(d) / "go").exists())
    return subprocess.run(
        [str(ROOT / "scripts/up"), *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )


def test_up_uses_the_parts_it_finds(tmp_path: Path) -> None:
    for name, (part, version) in BINARIES.items():
        path = tmp_path / f"{part}-{version}" / "bin" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/sh\n")
        path.chmod(0o755)
    done = up(tmp_path, "--help")
    assert done.returncode == 0, done.stderr
    assert "local cluster parts found" in done.stderr
    assert "usage: berth up" in done.stdout


def test_up_without_the_parts_or_go_says_how_to_get_them(tmp_path: Path) -> None:
    done = up(tmp_path / "empty", "--help", without_go=True)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "etcd kube kwok" in done.stderr
    assert "go is not on PATH" in done.stderr
    assert "BERTH_UP_SKIP_PARTS=1" in done.stderr


def test_up_can_start_without_them(tmp_path: Path) -> None:
    env_done = subprocess.run(
        [str(ROOT / "scripts/up"), "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "BERTH_PARTS_CACHE": str(tmp_path), "BERTH_UP_SKIP_PARTS": "1"},
        timeout=300,
        check=False,
    )
    assert env_done.returncode == 0, env_done.stderr
    assert "local clusters cannot be created" in env_done.stderr


def test_up_builds_the_missing_parts_with_progress_and_an_estimate(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    fake_go = tmp_path / "bin" / "go"
    fake_go.parent.mkdir()
    fake_go.write_text("#!/bin/sh\necho go1.26\n")
    fake_go.chmod(0o755)
    build = tmp_path / "build.sh"
    lines = ["set -e"]
    for name, (part, version) in BINARIES.items():
        out = cache / f"{part}-{version}" / "bin"
        lines += [f'echo "[build-go-parts] building {name}" >&2', "echo go: downloading noise", f"mkdir -p {out}"]
        lines += [f"printf '#!/bin/sh\\n' > {out / name}", f"chmod +x {out / name}"]
    build.write_text("\n".join(lines) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BERTH_", "KUBEBUILDER_ASSETS"))}
    env.update(
        BERTH_PARTS_CACHE=str(cache),
        BERTH_UP_BUILD_SCRIPT=str(build),
        PATH=f"{fake_go.parent}{os.pathsep}{env['PATH']}",
    )
    done = subprocess.run(
        [str(ROOT / "scripts/up"), "--help"], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "first run: building etcd kube kwok" in done.stderr
    assert "estimate: about" in done.stderr and "min" in done.stderr
    assert "[build-go-parts] building kube-apiserver" in done.stderr
    assert "go: downloading" not in done.stderr, "only the build's steps are shown"
    assert "parts built in" in done.stderr
    assert "usage: berth up" in done.stdout
