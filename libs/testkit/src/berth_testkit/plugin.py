"""pytest plugin: fixtures that start the real parts Berth's tests use.

Registered through the ``pytest11`` entry point, so every test directory in the
workspace gets them. Slow servers are session-scoped.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .nats import NatsServer


@pytest.fixture(scope="session")
def parts_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("parts")


@pytest.fixture(scope="session")
def nats_server(parts_dir: Path) -> Iterator[NatsServer]:
    """A session-wide nats-server with JetStream. Tests must use unique stream/subject names
    or the ``nats_isolated`` fixture when they restart or kill the server."""
    srv = NatsServer(parts_dir / "nats").start()
    yield srv
    srv.stop()


@pytest.fixture
def nats_isolated(tmp_path: Path) -> Iterator[NatsServer]:
    """A nats-server of this test's own, for tests that kill or restart it."""
    srv = NatsServer(tmp_path / "nats").start()
    yield srv
    srv.stop()
