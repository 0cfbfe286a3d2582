"""Child processes of the local provider: started detached with a log file, their pids kept
on disk so a restarted service can still stop them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import ssl
import subprocess
from collections.abc import Sequence
from pathlib import Path

import aiohttp


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Popen objects of the children this process started, so they are reaped (no zombies).
_children: dict[int, subprocess.Popen[bytes]] = {}


def start(name: str, argv: Sequence[str], *, log_dir: Path) -> int:
    """Start ``argv`` in its own session, stdout/stderr to ``<log_dir>/<name>.log``; returns the pid."""
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / f"{name}.log").open("ab") as log:
        proc = subprocess.Popen(
            list(argv), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    _children[proc.pid] = proc
    return proc.pid


def alive(pid: int) -> bool:
    child = _children.get(pid)
    if child is not None:
        if child.poll() is None:
            return True
        _children.pop(pid, None)
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return _state(pid) != "Z"


def runs_under(pid: int, directory: Path) -> bool:
    """Whether ``pid`` is a live process whose command line names a path under ``directory``
    (every component of a local cluster is started with its files there)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    prefix = str(directory).encode() + b"/"
    return any(prefix in arg for arg in argv)


def pids_under(directory: Path) -> list[int]:
    """Live processes whose command line names a path under ``directory``."""
    found: list[int] = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and runs_under(int(proc.name), directory) and alive(int(proc.name)):
            found.append(int(proc.name))
    return found


def _state(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "?"
    return stat.rsplit(")", 1)[1].split()[0]


async def stop(pid: int, *, grace: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after ``grace`` seconds."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    while alive(pid):
        if loop.time() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        await asyncio.sleep(0.1)


def peak_rss_bytes(pid: int) -> int:
    """VmHWM (peak resident set) of a live process, 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


async def http_ok(url: str, *, tls: ssl.SSLContext | None = None) -> bool:
    try:
        timeout = aiohttp.ClientTimeout(total=5)
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url, ssl=tls or False) as resp:
            return resp.status == 200
    except (aiohttp.ClientError, OSError, TimeoutError):
        return False
