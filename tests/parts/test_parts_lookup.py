"""Binaries are found where the docs say, and a missing one fails with how to get it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from berth_testkit import parts
from berth_testkit.procs import PartMissing


def _exe(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_versions_come_from_the_shared_file_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    text = parts.VERSIONS_FILE.read_text()
    assert f"KUBE={parts.version('kube')}" in text
    monkeypatch.setenv("BERTH_KUBE_VERSION", "v1.99.0")
    assert parts.version("kube") == "v1.99.0"


def test_kubebuilder_assets_win_over_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BERTH_PARTS_CACHE", str(tmp_path / "cache"))
    cached = _exe(tmp_path / "cache" / f"kube-{parts.version('kube')}" / "bin" / "kube-apiserver")
    assert parts.binary("kube-apiserver") == str(cached)
    assets = _exe(tmp_path / "assets" / "kube-apiserver")
    monkeypatch.setenv("KUBEBUILDER_ASSETS", str(assets.parent))
    assert parts.binary("kube-apiserver") == str(assets)
    # parts envtest does not ship still come from the cache
    kwok = _exe(tmp_path / "cache" / f"kwok-{parts.version('kwok')}" / "bin" / "kwok")
    assert parts.binary("kwok") == str(kwok)
    override = _exe(tmp_path / "elsewhere" / "apiserver")
    monkeypatch.setenv("BERTH_BIN_KUBE_APISERVER", str(override))
    assert parts.binary("kube-apiserver") == str(override)


def test_a_missing_part_says_how_to_get_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BERTH_PARTS_CACHE", str(tmp_path))
    monkeypatch.delenv("KUBEBUILDER_ASSETS", raising=False)
    monkeypatch.delenv("BERTH_BIN_ETCD", raising=False)
    with pytest.raises(PartMissing, match=r"run scripts/install-parts\.sh"):
        parts.binary("etcd")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PartMissing, match=r"docker-registry.*scripts/install-parts\.sh"):
        parts.binary("docker-registry")


def test_every_installed_part_is_found() -> None:
    for name in [*parts.GO_BINARIES, *parts.DEBIAN_BINARIES]:
        assert os.access(parts.binary(name), os.X_OK), name


def test_a_part_that_does_not_come_up_fails_with_its_log(tmp_path: Path) -> None:
    import socket

    from berth_testkit.registry import Registry

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        reg = Registry(tmp_path / "reg", port=taken.getsockname()[1])
        with pytest.raises(RuntimeError, match=r"(?s)docker-registry exited.*address already in use"):
            reg.start()
