"""node-manager's tests create, break, drain and delete nodes by the dozen: they get a cluster of
their own, so none of that reaches other services' workloads on the shared ``kube_cluster``."""

from __future__ import annotations

import pytest_asyncio
from berth_testkit.kube import KubeCluster


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def kube_cluster(kube_cluster_of_its_own: KubeCluster) -> KubeCluster:
    return kube_cluster_of_its_own
