"""The testkit's end-of-session check: a server the session started and left running fails the
session and is named, whether its parent is still the test process or it was orphaned (pid 1);
a session that stops what it started passes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from berth_testkit.procs import processes_under

LEAKY = """
import subprocess, sys
from pathlib import Path
from berth_testkit.nats import NatsServer


def test_forgets_to_stop_a_server(tmp_path: Path) -> None:
    NatsServer(tmp_path / "kept").start()


def test_orphans_a_server(tmp_path: Path) -> None:
    # a child process starts a server in a session of its own and exits: pid 1 adopts the server
    where = str(tmp_path / "orphan")
    code = f"from pathlib import Path; from berth_testkit.nats import NatsServer; NatsServer(Path({where!r})).start()"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
"""

TIDY = """
from pathlib import Path
from berth_testkit.nats import NatsServer


def test_stops_its_server(tmp_path: Path) -> None:
    NatsServer(tmp_path / "n").start().stop()
"""


def run_session(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_inner.py").write_text(source)
    env = {k: v for k, v in os.environ.items() if k not in ("BERTH_TEST_SESSION", "BERTH_LEAK_KEEP")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--basetemp={tmp_path / 'base'}"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_a_session_that_leaves_servers_running_fails_and_names_them(tmp_path: Path) -> None:
    done = run_session(tmp_path, LEAKY)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "2 passed" in out, "every test passed: the session fails for the leak alone"
    assert "servers left running by this session" in out
    leaked = [line for line in out.splitlines() if line.startswith("nats-server pid")]
    assert len(leaked) == 2, out
    # one still has the test process as its parent, the other was re-parented (pid 1 or a subreaper)
    assert any("/kept/" in line and "no parent" not in line for line in leaked), out
    assert any("/orphan/" in line for line in leaked), out
    assert not processes_under(tmp_path), "the check stopped what it found"


def test_a_session_that_stops_what_it_started_passes(tmp_path: Path) -> None:
    done = run_session(tmp_path, TIDY)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "servers left running" not in done.stdout
