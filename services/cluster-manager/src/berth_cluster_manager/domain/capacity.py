"""CPU and memory allocation rates of a cluster: nodes' allocatable against pods' requests
(the detail page's CPU分配率 / 内存分配率 with the remaining capacity)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from berth_schema.cluster.quantity import parse_quantity
from pydantic import BaseModel

GIB = Decimal(2**30)


class Allocation(BaseModel):
    cpu_allocatable: float  # cores
    cpu_requested: float
    cpu_rate: float  # 0..1
    cpu_remaining: float
    memory_allocatable_gib: float
    memory_requested_gib: float
    memory_rate: float
    memory_remaining_gib: float
    nodes: int
    pods: int


def _sum(resources: Iterable[dict[str, Any]], key: str) -> Decimal:
    total = Decimal(0)
    for r in resources:
        value = (r or {}).get(key)
        if value is not None:
            total += parse_quantity(value)
    return total


def pod_requests(pod: dict[str, Any]) -> dict[str, Decimal]:
    """Effective requests: the sum over containers, or the largest init container if bigger."""
    spec = pod.get("spec", {})
    out: dict[str, Decimal] = {}
    for key in ("cpu", "memory"):
        main = _sum(((c.get("resources") or {}).get("requests") or {} for c in spec.get("containers", [])), key)
        init = max(
            (_sum([(c.get("resources") or {}).get("requests") or {}], key) for c in spec.get("initContainers", [])),
            default=Decimal(0),
        )
        out[key] = max(main, init)
    return out


def allocation(nodes: list[dict[str, Any]], pods: list[dict[str, Any]]) -> Allocation:
    cpu_alloc = _sum((n.get("status", {}).get("allocatable") or {} for n in nodes), "cpu")
    mem_alloc = _sum((n.get("status", {}).get("allocatable") or {} for n in nodes), "memory")
    live = [
        p
        for p in pods
        if p.get("status", {}).get("phase") not in ("Succeeded", "Failed") and p.get("spec", {}).get("nodeName")
    ]
    cpu_req = sum((pod_requests(p)["cpu"] for p in live), Decimal(0))
    mem_req = sum((pod_requests(p)["memory"] for p in live), Decimal(0))

    def rate(used: Decimal, total: Decimal) -> float:
        return round(float(used / total), 4) if total else 0.0

    return Allocation(
        cpu_allocatable=float(cpu_alloc),
        cpu_requested=float(cpu_req),
        cpu_rate=rate(cpu_req, cpu_alloc),
        cpu_remaining=round(float(max(cpu_alloc - cpu_req, Decimal(0))), 3),
        memory_allocatable_gib=round(float(mem_alloc / GIB), 3),
        memory_requested_gib=round(float(mem_req / GIB), 3),
        memory_rate=rate(mem_req, mem_alloc),
        memory_remaining_gib=round(float(max(mem_alloc - mem_req, Decimal(0)) / GIB), 3),
        nodes=len(nodes),
        pods=len(live),
    )
