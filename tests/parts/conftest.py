"""Fixtures for a real node (kubelet + containerd + CNI + kube-proxy): pods really run.

``real_node`` is one node per test module on a control plane of its own (etcd, kube-apiserver,
controller-manager, scheduler), with a registry it pulls from (``real_node_registry``). The
module's busybox image is already loaded into the node as ``BUSYBOX``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from berth_testkit.images import Image, busybox_image
from berth_testkit.kube import KubeApi, KubeCluster
from berth_testkit.plugin import STARTUPS
from berth_testkit.realnode import RealNode, require_root
from berth_testkit.registry import Registry

BUSYBOX = "berth.local/busybox:1"


@pytest.fixture(scope="session")
def busybox() -> Image:
    return busybox_image(BUSYBOX)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def real_node_cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[KubeCluster]:
    """A control plane of the real node's own: kube-proxy programs the host's iptables for
    every Service of the cluster it watches, so it must not watch the shared ``kube_cluster``."""
    work = tmp_path_factory.mktemp("realnode-cp")
    api = KubeApi(work / "kube").start()
    try:
        cluster = KubeCluster(api, work / "cluster").start()
    except BaseException:
        api.stop()
        raise
    STARTUPS.append(("real_node control plane", api.startup_seconds + cluster.startup_seconds))
    yield cluster
    cluster.stop()
    api.stop()


@pytest.fixture(scope="module")
def real_node_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A registry (with auth) the real node pulls from."""
    reg = Registry(tmp_path_factory.mktemp("realnode-registry")).start()
    yield reg
    reg.stop()


@pytest.fixture(scope="module")
def real_node(
    real_node_cluster: KubeCluster,
    real_node_registry: Registry,
    busybox: Image,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RealNode]:
    """A Ready node on ``real_node_cluster``; stopped and cleaned up after the module, whatever
    happened (``RealNode.stop`` raises when something was left behind)."""
    require_root()
    node = RealNode(
        real_node_cluster.api, tmp_path_factory.mktemp("realnode") / "node", registries=[real_node_registry]
    )
    node.start()
    try:
        node.load_image(busybox)
        STARTUPS.append(("real_node (containerd, kubelet, kube-proxy)", node.startup_seconds))
        yield node
    finally:
        node.stop()
