"""Servers a test session started and left running.

The plugin puts ``BERTH_TEST_SESSION=<id>`` into the session's environment before any test runs;
every process a fixture, a service under test or a provider starts inherits it (they start with
the session's environment), orphans re-parented to pid 1 included. At the end of the session any
such process that is still running and is one of the servers below is a leak: some fixture did not
stop what it started. Processes of other sessions on the same machine carry another id.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

MARKER = "BERTH_TEST_SESSION"

# executables the fixtures and the services under test start
SERVERS = frozenset(
    {
        "nats-server",
        "etcd",
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "kwok",
        "kubelet",
        "kube-proxy",
        "containerd",
        "containerd-shim-runc-v2",
        "docker-registry",
        "registry",
        "prometheus",
        "prometheus-alertmanager",
        "alertmanager",
        "pdns_server",
        "ferretdb",
        "mongod",
    }
)


@dataclass(frozen=True)
class Leaked:
    pid: int
    ppid: int
    name: str
    cmdline: str

    @property
    def orphan(self) -> bool:
        return self.ppid == 1

    def describe(self) -> str:
        parent = "no parent (pid 1)" if self.orphan else f"parent {self.ppid}"
        return f"{self.name} pid {self.pid}, {parent}: {self.cmdline[:200]}"


def server_name(argv: list[str]) -> str:
    """The server a command line runs: its executable, or for a Python console script
    (``python .../bin/berth-gateway``) the script; empty when it is none of ours."""
    if not argv:
        return ""
    exe = Path(argv[0]).name
    if exe in SERVERS or exe.startswith("berth-"):
        return exe
    if exe.startswith("python") and len(argv) >= 2:
        script = Path(argv[1]).name
        if script.startswith("berth-"):  # a service's console script
            return script
        if argv[1] == "-m" and len(argv) >= 3 and argv[2].startswith("berth_"):  # python -m berth_<svc>.main
            return argv[2]
    return ""


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, ppid) from /proc/<pid>/stat (the command name may hold spaces and parentheses)."""
    raw = _read(Path(f"/proc/{pid}/stat")).decode(errors="replace")
    _, _, rest = raw.rpartition(")")
    fields = rest.split()
    if len(fields) < 2:
        return None
    return fields[0], int(fields[1])


def survivors(session: str, *, exclude: frozenset[int] = frozenset()) -> list[Leaked]:
    """Running servers whose environment carries ``BERTH_TEST_SESSION=<session>``."""
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    needle = f"{MARKER}={session}".encode()
    found: list[Leaked] = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if pid in exclude:
            continue
        if needle not in _read(entry / "environ").split(b"\0"):
            continue
        argv = [a.decode(errors="replace") for a in _read(entry / "cmdline").split(b"\0") if a]
        name = server_name(argv)
        stat = _stat(pid)
        if not name or stat is None or stat[0] in ("Z", "X"):
            continue
        found.append(Leaked(pid, stat[1], name, " ".join(argv)))
    return sorted(found, key=lambda p: p.pid)


def wait_for_survivors(session: str, *, exclude: frozenset[int], grace: float = 5.0) -> list[Leaked]:
    """Survivors still there after ``grace`` seconds (a server may be exiting right now)."""
    deadline = time.monotonic() + grace
    left = survivors(session, exclude=exclude)
    while left and time.monotonic() < deadline:
        time.sleep(0.25)
        left = survivors(session, exclude=exclude)
    return left


def stop(leaked: list[Leaked], *, timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL what is still there after ``timeout`` seconds."""
    for p in leaked:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(p.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_alive(p.pid) for p in leaked):
        time.sleep(0.2)
    for p in leaked:
        if _alive(p.pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(p.pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")
