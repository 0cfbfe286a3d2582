"""`berth up` on a fresh data directory: every service comes up behind the gateway, Ctrl-C stops
everything cleanly, and state kept in the data directory survives a restart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from berth_testkit.procs import free_port

SERVICES = {
    "cluster-manager",
    "node-manager",
    "registry-sync",
    "release-orchestrator",
    "monitor-alert",
    "dr-switcher",
    "gateway",
}


def start(data_dir: Path, ports: dict[str, int]) -> tuple[subprocess.Popen[bytes], Path]:
    log = data_dir.parent / f"up-{time.monotonic_ns()}.log"
    env = {k: v for k, v in os.environ.items() if k != "BERTH_ADMIN_TOKEN"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "berth",
                "up",
                "--data-dir",
                str(data_dir),
                "--port",
                str(ports["gw"]),
                "--nats-port",
                str(ports["nats"]),
                "--side-port-base",
                str(ports["side"]),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    deadline = time.monotonic() + 90
    while b"Berth is up" not in log.read_bytes():
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)
    return proc, log


def services(port: int, token: str) -> dict[str, str]:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/services", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return {i["name"]: i["status"] for i in json.load(r)["items"]}


def tenants(port: int, token: str) -> set[str]:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/tenants", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return {i["name"] for i in json.load(r)["items"]}


def stop(proc: subprocess.Popen[bytes], log: Path) -> None:
    proc.send_signal(signal.SIGINT)
    assert proc.wait(60) == 0, log.read_text()
    assert "Stopped." in log.read_text()


def test_berth_up_runs_the_suite_and_stops_cleanly(tmp_path: Path) -> None:
    data = tmp_path / "data"
    side = free_port()
    while any(not _free(side + i) for i in range(8)):
        side = free_port()
    ports = {"gw": free_port(), "nats": free_port(), "side": side}
    proc, log = start(data, ports)
    try:
        token_file = data / "admin-token"
        assert oct(token_file.stat().st_mode & 0o777) == "0o600"
        token = token_file.read_text().strip()
        assert token not in log.read_text(), "the token is never printed"
        assert f"`berth login --server http://127.0.0.1:{ports['gw']}`" in log.read_text()
        assert services(ports["gw"], token) == dict.fromkeys(SERVICES, "up")
        assert "default" in tenants(ports["gw"], token), "the admin gets a tenant to work in"
        stop(proc, log)
        assert not (data / "logs" / "gateway.log").read_text().count(token)

        # state survives a restart: the same token and the JetStream streams with their history
        proc, log = start(data, ports)
        assert (data / "admin-token").read_text().strip() == token
        assert services(ports["gw"], token) == dict.fromkeys(SERVICES, "up")
        assert "default" in tenants(ports["gw"], token)
        streams = json.load(urllib.request.urlopen(f"http://127.0.0.1:{ports['side']}/jsz?streams=true", timeout=5))
        names = {s["name"] for a in streams["account_details"] for s in a["stream_detail"]}
        assert {"BERTH_EVENTS", "BERTH_COMMANDS", "BERTH_DLQ"} <= names
        stop(proc, log)
        left = subprocess.run(["pgrep", "-f", str(data)], capture_output=True, text=True).stdout.split()
        assert not left, f"processes left running: {left}"
    finally:
        if proc.poll() is None:
            proc.kill()


def _free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
