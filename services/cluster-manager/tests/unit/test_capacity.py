from __future__ import annotations

from berth_cluster_manager.domain.capacity import allocation


def _node(cpu: str, mem: str) -> dict:
    return {"status": {"allocatable": {"cpu": cpu, "memory": mem, "pods": "110"}}}


def _pod(cpu: str, mem: str, *, phase: str = "Running", init: str | None = None) -> dict:
    spec: dict = {
        "nodeName": "n1",
        "containers": [{"resources": {"requests": {"cpu": cpu, "memory": mem}}}, {"resources": {}}],
    }
    if init:
        spec["initContainers"] = [{"resources": {"requests": {"cpu": init}}}]
    return {"spec": spec, "status": {"phase": phase}}


def test_allocation_rates_like_the_detail_page() -> None:
    nodes = [_node("1430m", "1587Mi"), _node("1430m", "1587Mi")]
    pods = [_pod("500m", "512Mi"), _pod("100m", "128Mi", init="600m"), _pod("4", "8Gi", phase="Succeeded")]
    a = allocation(nodes, pods)
    assert a.cpu_allocatable == 2.86 and a.cpu_requested == 1.1
    assert a.cpu_rate == round(1.1 / 2.86, 4) and a.cpu_remaining == 1.76
    assert a.memory_requested_gib == 0.625 and a.pods == 2 and a.nodes == 2
    assert allocation([], []).cpu_rate == 0.0
