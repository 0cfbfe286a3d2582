"""pytest plugin: fixtures that start the real parts Berth's tests use.

Registered through the ``pytest11`` entry point, so every test directory in the
workspace gets them. Slow servers are session-scoped; cheap ones are per test so
tests can configure and break them freely.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from . import leaks
from .kube import KubeApi, KubeCluster
from .mongo import MongoServer, start_mongo
from .monitoring import Alertmanager, Prometheus
from .nats import NatsServer
from .powerdns import PowerDNS
from .registry import Registry

# (part, seconds) of every server the fixtures started, shown in the terminal summary.
STARTUPS: list[tuple[str, float]] = []

KWOK_NODES = (("kwok-node-0", "zone-a"), ("kwok-node-1", "zone-b"), ("kwok-node-2", "zone-c"))


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


# --- MongoDB protocol ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def mongo(parts_dir: Path) -> Iterator[MongoServer]:
    """FerretDB (SQLite backend), or the MongoDB at BERTH_MONGODB_URL. Shared by the session:
    use ``mongo_db_name`` for a database of the test's own."""
    srv = start_mongo(parts_dir / "ferretdb")
    STARTUPS.append((f"mongo ({srv.kind})", srv.startup_seconds))
    yield srv
    srv.stop()


@pytest.fixture
def mongo_db_name(request: pytest.FixtureRequest) -> str:
    """A database name unique to this test (MongoDB allows 63 bytes, no ``/\\. "$``)."""
    stem = re.sub(r"[^A-Za-z0-9_]", "_", request.node.name)[:40]
    return f"t_{stem}_{uuid.uuid4().hex[:10]}"


# --- Kubernetes ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def kube_api(parts_dir: Path) -> Iterator[KubeApi]:
    """etcd + kube-apiserver (RBAC, admin client cert): the envtest equivalent.
    No controllers run: Deployments get no ReplicaSets here; use ``kube_cluster`` for that."""
    api = KubeApi(parts_dir / "kube").start()
    STARTUPS.append(("kube_api (etcd + kube-apiserver)", api.startup_seconds))
    yield api
    api.stop()


async def _start_cluster(api: KubeApi, work_dir: Path, what: str) -> KubeCluster:
    began = time.monotonic()
    cluster = KubeCluster(api, work_dir).start()
    try:
        # Roomy nodes: a full node would look like a product bug.
        await asyncio.gather(
            *(cluster.create_node(name, zone=zone, cpu="128", memory="1Ti", pods="500") for name, zone in KWOK_NODES)
        )
    except BaseException:
        cluster.stop()
        raise
    cluster.startup_seconds = time.monotonic() - began
    STARTUPS.append((what, cluster.startup_seconds))
    return cluster


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def kube_cluster(kube_api: KubeApi, parts_dir: Path) -> AsyncIterator[KubeCluster]:
    """kube_api plus kube-controller-manager, kube-scheduler and kwok with three Ready
    simulated nodes (zones a, b, c). It shares kube_api's API server, and the whole session
    shares its nodes (every service's kube tests, the chart install, the drain bench's 100 pods)."""
    cluster = await _start_cluster(
        kube_api, parts_dir / "kube-cluster", "kube_cluster (+ controllers, scheduler, kwok, 3 Ready nodes)"
    )
    yield cluster
    cluster.stop()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def kube_cluster_of_its_own(parts_dir: Path) -> AsyncIterator[KubeCluster]:
    """Another whole cluster (its own etcd, API server, controllers, scheduler, kwok and three
    nodes) for tests that churn nodes (create, delete, break, drain them by the dozen), so that
    what they leave behind never reaches other suites' workloads. A conftest can hand it out as
    ``kube_cluster``."""
    api = KubeApi(parts_dir / "kube-own").start()
    try:
        cluster = await _start_cluster(api, parts_dir / "kube-own-cluster", "kube_cluster_of_its_own")
    except BaseException:
        api.stop()
        raise
    yield cluster
    cluster.stop()
    api.stop()


# --- OCI registries -----------------------------------------------------------------------


@pytest.fixture
def registry_factory(tmp_path: Path) -> Iterator[Callable[..., Registry]]:
    """``registry_factory(auth=True, notify=[url], notify_headers={...})`` starts a registry."""
    started: list[Registry] = []

    def make(**options: Any) -> Registry:
        reg = Registry(tmp_path / f"registry-{len(started)}", **options).start()
        STARTUPS.append(("registry", reg.startup_seconds))
        started.append(reg)
        return reg

    yield make
    for reg in started:
        reg.stop()


@pytest.fixture
def registry_a(registry_factory: Callable[..., Registry]) -> Registry:
    return registry_factory()


@pytest.fixture
def registry_b(registry_factory: Callable[..., Registry]) -> Registry:
    return registry_factory()


@pytest.fixture
def registry_open(registry_factory: Callable[..., Registry]) -> Registry:
    """A registry without authentication."""
    return registry_factory(auth=False)


# --- Prometheus and Alertmanager ----------------------------------------------------------


@pytest.fixture
def alertmanager_factory(tmp_path: Path) -> Iterator[Callable[..., Alertmanager]]:
    """``alertmanager_factory(webhook_urls=[url], group_wait="0s", ...)``."""
    started: list[Alertmanager] = []

    def make(**options: Any) -> Alertmanager:
        am = Alertmanager(tmp_path / f"alertmanager-{len(started)}", **options).start()
        STARTUPS.append(("alertmanager", am.startup_seconds))
        started.append(am)
        return am

    yield make
    for am in started:
        am.stop()


@pytest.fixture
def alertmanager(alertmanager_factory: Callable[..., Alertmanager]) -> Alertmanager:
    """An Alertmanager with no receivers configured."""
    return alertmanager_factory()


@pytest.fixture
def prometheus_factory(tmp_path: Path) -> Iterator[Callable[..., Prometheus]]:
    """``prometheus_factory(rule_groups=[...], alertmanagers=[am.url], scrape_targets={...})``."""
    started: list[Prometheus] = []

    def make(**options: Any) -> Prometheus:
        prom = Prometheus(tmp_path / f"prometheus-{len(started)}", **options).start()
        STARTUPS.append(("prometheus", prom.startup_seconds))
        started.append(prom)
        return prom

    yield make
    for prom in started:
        prom.stop()


@pytest.fixture
def prometheus(prometheus_factory: Callable[..., Prometheus]) -> Prometheus:
    return prometheus_factory()


# --- PowerDNS -----------------------------------------------------------------------------


@pytest.fixture
def powerdns(tmp_path: Path) -> Iterator[PowerDNS]:
    """pdns_server (sqlite3 backend) with its HTTP API; an empty database per test."""
    pdns = PowerDNS(tmp_path / "pdns").start()
    STARTUPS.append(("powerdns", pdns.startup_seconds))
    yield pdns
    pdns.stop()


# --- what the session left running ---------------------------------------------------------

# servers found still running when the session finished (filled by pytest_sessionfinish)
LEAKED: list[leaks.Leaked] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    """Mark the session's environment: every process started from now on inherits the mark."""
    os.environ[leaks.MARKER] = uuid.uuid4().hex  # a fresh one also in a pytest run by a test


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the session when a server it started is still running after every fixture finished
    (BERTH_LEAK_CHECK=0 turns the check off; BERTH_LEAK_KEEP=1 leaves the leaked servers running)."""
    marker = os.environ.get(leaks.MARKER)
    if not marker or os.environ.get("BERTH_LEAK_CHECK") == "0":
        return
    LEAKED[:] = leaks.wait_for_survivors(marker, exclude=frozenset({os.getpid()}))
    if not LEAKED:
        return
    if os.environ.get("BERTH_LEAK_KEEP") != "1":
        leaks.stop(LEAKED)
    if session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if STARTUPS:
        terminalreporter.section("berth parts start-up")
        for part, seconds in STARTUPS:
            terminalreporter.write_line(f"{part}: {seconds:.1f}s")
    if LEAKED:
        terminalreporter.section("servers left running by this session (a fixture did not stop them)", red=True)
        for p in LEAKED:
            terminalreporter.write_line(p.describe(), red=True)
        kept = os.environ.get("BERTH_LEAK_KEEP") == "1"
        terminalreporter.write_line(
            "left running (BERTH_LEAK_KEEP=1)" if kept else "they were stopped now; the session fails", red=True
        )
