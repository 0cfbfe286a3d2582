"""Create N local tenant control planes concurrently; print seconds per cluster until ready
and peak memory per control plane, beside Kamaji's published 4.5 s per control plane.

    uv run python bench/clusters/run.py            # 20 clusters
    uv run python bench/clusters/run.py -n 4 --no-controllers

Each cluster runs the real create operation of cluster-manager's local provider: PKI,
etcd, kube-apiserver (+ controller-manager and scheduler unless --no-controllers),
readiness, kubeconfig; then it is deleted. Not a timed assertion: it prints numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from berth_cluster_manager.domain import Cluster, Phase, parse_spec
from berth_cluster_manager.providers.base import ClusterRef, StepFailed
from berth_cluster_manager.providers.local import LocalProvider

KAMAJI_SECONDS_PER_CONTROL_PLANE = 4.5  # Kamaji's published figure (its docs' benchmark)
MIB = 1024 * 1024


@dataclass
class Result:
    name: str
    seconds: float = 0.0
    steps: dict[str, float] = field(default_factory=dict)
    rss: dict[str, int] = field(default_factory=dict)
    error: str = ""


async def create_one(provider: LocalProvider, name: str) -> Result:
    spec = parse_spec({"name": name, "provider": "local"})
    ref = ClusterRef(tenant="bench", name=name, spec=spec)
    cluster = Cluster.request(tenant="bench", spec=spec, at=datetime.now(UTC))
    result = Result(name)
    began = time.monotonic()
    while (step := cluster.current_step) is not None:
        t = time.monotonic()
        cluster.step_started(step, at=datetime.now(UTC))
        try:
            await provider.run_step(ref, step, version=spec.version)
        except StepFailed as exc:
            result.error = f"{step}: {str(exc).splitlines()[0]}"
            return result
        cluster.step_succeeded(step, at=datetime.now(UTC))
        result.steps[step] = time.monotonic() - t
    assert cluster.phase == Phase.RUNNING
    result.seconds = time.monotonic() - began
    return result


async def delete_one(provider: LocalProvider, name: str) -> None:
    spec = parse_spec({"name": name, "provider": "local"})
    ref = ClusterRef(tenant="bench", name=name, spec=spec)
    for step in ("delete-control-plane", "delete-certificates-and-data"):
        await provider.run_step(ref, step, version=spec.version)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--clusters", type=int, default=20, help="clusters created concurrently (default 20)")
    parser.add_argument("--no-controllers", action="store_true", help="etcd + kube-apiserver only")
    parser.add_argument("--ready-timeout", type=float, default=300.0)
    parser.add_argument("--data-dir", type=Path, default=None, help="default: a temporary directory")
    args = parser.parse_args()

    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="berth-bench-clusters-"))
    provider = LocalProvider(data_dir, ready_timeout=args.ready_timeout, controllers=not args.no_controllers)
    names = [f"bench-{i:03d}" for i in range(args.clusters)]
    components = "etcd + kube-apiserver" + ("" if args.no_controllers else " + controller-manager + scheduler")
    print(f"creating {len(names)} local control planes concurrently ({components}) in {data_dir}")
    wall = time.monotonic()
    results = await asyncio.gather(*(create_one(provider, n) for n in names))
    wall = time.monotonic() - wall
    for r in results:
        if not r.error:
            r.rss = provider.peak_rss_bytes(ClusterRef("bench", r.name, parse_spec({"name": r.name})))
    try:
        ok = [r for r in results if not r.error]
        print(f"\n{'cluster':<10} {'ready s':>8} {'etcd s':>7} {'cp s':>7} {'peak RSS MiB':>13}")
        for r in results:
            if r.error:
                print(f"{r.name:<10} FAILED {r.error}")
                continue
            print(
                f"{r.name:<10} {r.seconds:8.2f} {r.steps.get('provision-etcd', 0):7.2f} "
                f"{r.steps.get('provision-control-plane', 0):7.2f} {sum(r.rss.values()) / MIB:13.1f}"
            )
        if not ok:
            print("no cluster became ready")
            return 1
        secs = [r.seconds for r in ok]
        rss = [sum(r.rss.values()) / MIB for r in ok]
        per_component = {c: statistics.mean(r.rss.get(c, 0) / MIB for r in ok) for c in ok[0].rss}
        amortised = wall / len(ok)
        print(f"\nready: {len(ok)}/{len(results)} in {wall:.1f} s wall ({amortised:.2f} s per control plane amortised)")
        print(
            f"seconds until ready per cluster: mean {statistics.mean(secs):.2f}  median {statistics.median(secs):.2f}"
            f"  p95 {_pct(secs, 0.95):.2f}  max {max(secs):.2f}"
        )
        print(
            f"peak RSS per control plane: mean {statistics.mean(rss):.0f} MiB  max {max(rss):.0f} MiB  ("
            + ", ".join(f"{c} {v:.0f}" for c, v in per_component.items())
            + ")"
        )
        print(f"Kamaji (published): {KAMAJI_SECONDS_PER_CONTROL_PLANE} s per control plane")
        print(
            f"ratio median/Kamaji: {statistics.median(secs) / KAMAJI_SECONDS_PER_CONTROL_PLANE:.2f}x   "
            f"ratio amortised/Kamaji: {amortised / KAMAJI_SECONDS_PER_CONTROL_PLANE:.2f}x"
        )
    finally:
        await asyncio.gather(*(delete_one(provider, n) for n in names), return_exceptions=True)
        if args.data_dir is None:
            shutil.rmtree(data_dir, ignore_errors=True)
    return 0 if len(ok) == len(results) else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
