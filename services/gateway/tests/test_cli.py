"""The `berth` CLI against a running gateway (a real child process, real HTTP)."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import sys
from pathlib import Path

import yaml
from gwtest import ADMIN_TOKEN, Stack


async def berth(config: Path, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    env = {**os.environ, "BERTH_CONFIG": str(config)}
    env.pop("BERTH_TOKEN", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from berth.cli import main; main()",
        *argv,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin.encode()), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_cli_login_cluster_lifecycle_and_errors(stack: Stack, tmp_path: Path) -> None:
    cfg = tmp_path / "berth" / "config.json"
    code, _, err = await berth(cfg, "login", "--server", stack.url, "--token", "berth_nope_nope")
    assert code == 1 and "error: the bearer token is unknown" in err and "(HTTP 401)" in err
    assert not cfg.exists()
    code, out, err = await berth(
        cfg, "login", "--server", stack.url, "--token-stdin", "--tenant", "acme", stdin=ADMIN_TOKEN + "\n"
    )
    assert code == 0, err
    assert "logged in" in out and ADMIN_TOKEN not in out
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o600
    assert json.loads(cfg.read_text())["token"] == ADMIN_TOKEN

    code, out, err = await berth(cfg, "cluster", "create", "cli-one", "--pod-cidr", "172.20.0.0/16")
    assert code == 0, err
    assert "create cli-one [" in err and "#" * 30 in err and "succeeded" in err  # the progress bar
    assert "succeeded" in out

    code, out, _ = await berth(cfg, "cluster", "list", "-o", "json")
    clusters = {c["name"]: c for c in json.loads(out)}
    assert clusters["cli-one"]["phase"] == "Running" and clusters["cli-one"]["tenant"] == "acme"
    assert "globex-prod" not in clusters
    code, out, _ = await berth(cfg, "cluster", "get", "cli-one", "-o", "yaml")
    assert yaml.safe_load(out)["network"]["pod_cidr"] == "172.20.0.0/16"
    code, out, _ = await berth(cfg, "cluster", "list")
    assert out.splitlines()[0].split() == ["NAME", "PHASE", "VERSION", "PROVIDER", "TENANT"]

    code, _, err = await berth(cfg, "cluster", "create", "bad", "--pod-cidr", "300.1.0.0/16")
    assert code == 1 and "pod_cidr:" in err and "not a valid" in err
    code, _, err = await berth(cfg, "cluster", "get", "missing")
    assert code == 1 and "missing not found" in err and "(HTTP 404)" in err
    code, _, err = await berth(cfg, "node", "list", "--cluster", "cli-one")
    assert code == 1 and "does not offer op list-nodes" in err

    code, _, _ = await berth(cfg, "logout")
    assert code == 0 and not cfg.exists()


async def test_cli_join_tokens(stack: Stack, tmp_path: Path) -> None:
    cfg = tmp_path / "berth" / "config.json"
    code, _, err = await berth(
        cfg, "login", "--server", stack.url, "--token-stdin", "--tenant", "acme", stdin=ADMIN_TOKEN + "\n"
    )
    assert code == 0, err
    code, out, err = await berth(cfg, "node", "join-token", "--cluster", "acme-prod", "--pool", "edge", "--ttl", "600")
    assert code == 0, err
    assert "# token abcdef for pool edge" in out and "berth node join --server https://127.0.0.1:6443" in out
    assert stack.world.join_requests[-1]["ttl_seconds"] == 600
    code, _, err = await berth(cfg, "node", "join-token", "--cluster", "acme-prod", "--pool", "edge", "--ttl", "5")
    assert code == 1 and "ttl_seconds" in err
    stack.world.join_tokens["acme-prod"] = [{"token_id": "qwerty", "expires": "2026-01-02T00:00:00+00:00"}]
    code, out, err = await berth(cfg, "node", "join-tokens", "--cluster", "acme-prod")
    assert code == 0 and out.splitlines()[0].split() == ["TOKEN_ID", "EXPIRES", "DESCRIPTION"] and "qwerty" in out
    code, out, err = await berth(cfg, "node", "revoke-join-token", "qwerty", "--cluster", "acme-prod")
    assert code == 0 and "join token qwerty revoked" in out, err
    code, _, err = await berth(cfg, "node", "revoke-join-token", "qwerty", "--cluster", "acme-prod")
    assert code == 1 and "(HTTP 404)" in err
