from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from berth_testkit import parts

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "berth"
KWOK_VALUES = CHART / "ci" / "kwok-values.yaml"
KUBE_VERSION = parts.version("kube").lstrip("v")

Helm = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def helm() -> Helm:
    binary = parts.binary("helm")

    def run(*args: str, check: bool = True, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([binary, *args], capture_output=True, text=True, timeout=300, env=env)
        if check and proc.returncode != 0:
            raise AssertionError(f"helm {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}{proc.stdout}")
        return proc

    return run


def render(helm: Helm, *extra: str) -> list[dict[str, Any]]:
    out = helm(
        "template",
        "t",
        str(CHART),
        "-f",
        str(KWOK_VALUES),
        "--kube-version",
        KUBE_VERSION,
        "--namespace",
        "berth",
        *extra,
    ).stdout
    return [d for d in yaml.safe_load_all(out) if d]
