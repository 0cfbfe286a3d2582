"""Suite-wide pytest hooks."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Known issue: after node-manager's kube tests (pool nodes created and deleted, 300 rapid node
    # patches, NotReady nodes) the shared kwok cluster sometimes leaves new pods unavailable, and
    # release-orchestrator's canary analysis test then waits forever on 0/3 replicas (seen in 3 of 4
    # full-order runs, never alone). Until that is understood, release-orchestrator's tests run
    # first; the rig's timeout message now lists every pod's node, phase and conditions.
    def rank(item: pytest.Item) -> int:
        return 0 if "services/release-orchestrator/" in str(item.path) else 1

    items.sort(key=rank)
