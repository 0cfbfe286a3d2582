"""Start a real server as a child process on loopback, wait for it, stop it."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path


class PartMissing(RuntimeError):
    """A real part the tests need is not installed; the message says how to get it."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tcp_open(port: int, host: str = "127.0.0.1") -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


def which_or_fail(name: str, *candidates: str | Path, how: str) -> str:
    for c in candidates:
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return str(c)
    found = shutil.which(name)
    if found:
        return found
    raise PartMissing(f"{name} not found. {how}")


class Proc:
    """A child process whose output goes to a log file that failures can show."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_dir: Path,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        inherit_env: bool = True,
    ) -> None:
        """``env`` adds to this process's environment, or with ``inherit_env=False`` is all of it."""
        self.name, self.argv, self.env, self.cwd = name, list(argv), env, cwd
        self.inherit_env = inherit_env
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{name}.log"
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Proc:
        log = self.log_path.open("ab")
        self.popen = subprocess.Popen(
            self.argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**(os.environ if self.inherit_env else {}), **(self.env or {})},
            cwd=self.cwd,
            start_new_session=True,
        )
        log.close()
        return self

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "<no log>"

    def wait_ready(self, check: Callable[[], bool], *, timeout: float = 60.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen is not None and self.popen.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.popen.returncode} before it was ready "
                    f"({' '.join(self.argv)}).\n--- {self.log_path} ---\n{self.log_tail()}"
                )
            with contextlib.suppress(Exception):
                if check():
                    return
            time.sleep(0.1)
        raise TimeoutError(
            f"{self.name} not ready {what} within {timeout:.0f}s.\n--- {self.log_path} ---\n{self.log_tail()}"
        )

    def stop(self, *, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        p = self.popen
        if p is None or p.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, sig)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            p.wait(5)

    def kill(self) -> None:
        self.stop(sig=signal.SIGKILL, timeout=5)

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None


def processes_under(directory: Path) -> list[int]:
    """Live processes whose command line names a path under ``directory`` (a local cluster's
    etcd, kube-apiserver, controllers and kwok all run with their files in its data directory)."""
    prefix = str(directory.resolve()).encode() + b"/"
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in ("Z", "X") and any(prefix in arg for arg in argv):
            found.append(int(entry.name))
    return found


def stop_processes_under(directory: Path, *, timeout: float = 15.0) -> list[int]:
    """Stop (SIGTERM, then SIGKILL after ``timeout``) every process running from ``directory``:
    what a service under test started detached, e.g. the local provider's control planes, which
    outlive the service by design. Returns the pids it stopped."""
    pids = processes_under(directory)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and set(processes_under(directory)) & set(pids):
        time.sleep(0.2)
    for pid in set(processes_under(directory)) & set(pids):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    return pids
