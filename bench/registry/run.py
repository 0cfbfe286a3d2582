"""Registry sync benchmark: Berth's copier against `skopeo sync`, in the same run, same data.

    uv run python bench/registry/run.py [--images 20] [--min-mb 1] [--max-mb 24]

Starts three Debian docker-registry instances (source A, and one fresh destination for each tool), pushes a
synthetic image set to A (images sharing base layers, unique layers from --min-mb to --max-mb, some
multi-arch indexes), then syncs A -> B with Berth and A -> C with skopeo: cold (empty destination), then
warm (nothing changed). Each sync runs in its own child process so its peak RSS is measured alone.
Prints seconds, MB/s, ratios and peak memory. Not a pass/fail test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from berth_registry_sync.oci import Copier, CopyOptions, Descriptor, Endpoint, Manifest, RegistryClient
from berth_registry_sync.oci.media import OCI_INDEX, OCI_MANIFEST
from berth_testkit.registry import Registry

LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
MB = 1024 * 1024


async def populate(reg: Registry, *, images: int, min_mb: int, max_mb: int, seed: int) -> tuple[list[str], int]:
    """Push the image set; returns the repositories and the bytes of distinct blobs."""
    rnd = random.Random(seed)
    total = 0
    repos: list[str] = []
    async with RegistryClient(Endpoint(url=reg.url, username=reg.username, password=reg.password)) as c:

        async def blob(repo: str, size: int) -> Descriptor:
            nonlocal total
            d = await c.push_blob(repo, os.urandom(size))
            total += size
            return Descriptor(media_type=LAYER, digest=d.digest, size=d.size)

        bases = [await blob("bench/base", rnd.randint(min_mb, max(min_mb, max_mb // 2)) * MB) for _ in range(3)]

        async def image(repo: str, tag: str | None, arch: str) -> Manifest:
            nonlocal total
            base = bases[rnd.randrange(len(bases))]
            if await c.head_blob(repo, base.digest) is None:
                await c.mount_blob(repo, base.digest, from_repo="bench/base")
            layers = [base] + [await blob(repo, rnd.randint(min_mb * MB, max_mb * MB)) for _ in range(2)]
            cfg = await c.push_blob(repo, json.dumps({"architecture": arch, "os": "linux", "n": rnd.random()}).encode())
            total += cfg.size
            doc = {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": cfg.digest,
                    "size": cfg.size,
                },
                "layers": [x.to_json() for x in layers],
            }
            m = Manifest.parse(json.dumps(doc).encode(), content_type=OCI_MANIFEST)
            await c.put_manifest(repo, tag or m.digest, m)
            return m

        for i in range(images):
            repo = f"bench/app{i:02d}"
            repos.append(repo)
            if i % 5 == 4:  # every fifth is a two-platform index
                kids = [await image(repo, None, arch) for arch in ("amd64", "arm64")]
                doc = {
                    "schemaVersion": 2,
                    "mediaType": OCI_INDEX,
                    "manifests": [
                        {**k.descriptor().to_json(), "platform": {"os": "linux", "architecture": a}}
                        for k, a in zip(kids, ("amd64", "arm64"), strict=True)
                    ],
                }
                idx = Manifest.parse(json.dumps(doc).encode(), content_type=OCI_INDEX)
                await c.put_manifest(repo, "1.0", idx)
            else:
                await image(repo, "1.0", "amd64")
    return repos, total


async def berth_sync(spec: dict[str, Any]) -> dict[str, Any]:
    began = time.perf_counter()
    src = RegistryClient(Endpoint(url=spec["src"], username=spec["user"], password=spec["src_password"]))
    dst = RegistryClient(Endpoint(url=spec["dst"], username=spec["user"], password=spec["dst_password"]))
    async with src, dst:
        await src.ping()
        await dst.ping()
        copier = Copier(src, dst, CopyOptions(blob_concurrency=8))
        slots = asyncio.Semaphore(8)

        async def repo_sync(repo: str) -> list[Any]:
            tags = await src.list_tags(repo)

            async def one(tag: str) -> Any:
                async with slots:
                    return await copier.copy_tag(repo, tag)

            return list(await asyncio.gather(*(one(t) for t in tags)))

        results = [r for rs in await asyncio.gather(*(repo_sync(r) for r in spec["repos"])) for r in rs]
    failed = [f"{r.repository}:{r.tag}: {r.error}" for r in results if r.status == "failed"]
    statuses: dict[str, int] = {}
    for r in results:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    return {
        "statuses": statuses,
        "failed": failed,
        "bytes": sum(r.bytes for r in results),
        "seconds": time.perf_counter() - began,
    }


def timed_child(argv: list[str], *, env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Run a child; returns (seconds, peak RSS in MiB, output).

    Peak RSS comes from /usr/bin/time: a process forked straight from this (large) Python keeps the
    parent's high-water mark across exec, so its own ru_maxrss would be wrong.
    """
    with tempfile.TemporaryDirectory() as tmp:
        out_path, rss_path = Path(tmp) / "out", Path(tmp) / "rss"
        began = time.perf_counter()
        with out_path.open("wb") as out:
            proc = subprocess.run(
                ["/usr/bin/time", "-f", "%M", "-o", str(rss_path), *argv],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
                check=False,
            )
        seconds = time.perf_counter() - began
        text = out_path.read_text(errors="replace")
        if proc.returncode != 0:
            raise SystemExit(f"{argv[0]} failed ({proc.returncode}):\n" + "\n".join(text.splitlines()[-15:]))
        peak_kib = int(rss_path.read_text().split()[-1])
    return seconds, peak_kib / 1024, text


def skopeo_argv(src: Registry, dst: Registry, yaml_path: Path) -> list[str]:
    return [
        "skopeo",
        "sync",
        "--all",
        "--src",
        "yaml",
        "--dest",
        "docker",
        "--dest-tls-verify=false",
        f"--dest-creds={dst.username}:{dst.password}",
        str(yaml_path),
        dst.host,
    ]


def skopeo_yaml(src: Registry, repos: list[str], path: Path) -> None:
    # skopeo's YAML source: every tag of each repository (an empty list means all tags)
    lines = [
        f"{src.host}:",
        "  tls-verify: false",
        "  credentials:",
        f"    username: {src.username}",
        f"    password: {src.password}",
        "  images:",
    ]
    lines += [f"    {r}: []" for r in repos]
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=20)
    ap.add_argument("--min-mb", type=int, default=1)
    ap.add_argument("--max-mb", type=int, default=24)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(berth_sync(json.loads(Path(args.child).read_text())))))
        return
    work = Path(tempfile.mkdtemp(prefix="berth-bench-registry-"))
    regs = [Registry(work / name).start() for name in ("a", "berth", "skopeo")]
    a, b, c = regs
    try:
        t0 = time.perf_counter()
        repos, total = asyncio.run(
            populate(a, images=args.images, min_mb=args.min_mb, max_mb=args.max_mb, seed=args.seed)
        )
        print(
            f"image set: {len(repos)} repositories, {total / MB:.1f} MiB of distinct blobs "
            f"(pushed in {time.perf_counter() - t0:.1f}s)"
        )
        spec = work / "berth.json"
        spec.write_text(
            json.dumps(
                {
                    "src": a.url,
                    "dst": b.url,
                    "user": a.username,
                    "src_password": a.password,
                    "dst_password": b.password,
                    "repos": repos,
                }
            )
        )
        yaml_path = work / "skopeo.yaml"
        skopeo_yaml(a, repos, yaml_path)
        berth_argv = [sys.executable, __file__, "--child", str(spec)]
        rows = []
        for phase in ("cold", "warm"):
            bs, bmem, bout = timed_child(berth_argv)
            ss, smem, sout = timed_child(skopeo_argv(a, c, yaml_path))
            print(f"--- skopeo {phase}:\n{sout.strip()[-600:]}")
            report = json.loads(bout.strip().splitlines()[-1])
            if report["failed"]:
                raise SystemExit(f"berth failures: {report['failed']}")
            rows.append((phase, bs, report["seconds"], ss, bmem, smem, report["statuses"]))
        # "berth s" and "skopeo s" are wall time of a whole process, start-up included; "sync s" is the
        # sync alone, timed inside the Berth process (the service is long-running: Python start-up and
        # imports are paid once, not per sync)
        print(
            f"{'phase':<6} {'berth s':>8} {'sync s':>7} {'skopeo s':>9} {'berth MB/s':>11} {'skopeo MB/s':>12} "
            f"{'x process':>10} {'x service':>10} {'berth RSS':>10} {'skopeo RSS':>11}  berth tasks"
        )
        for phase, bs, inner, ss, bmem, smem, statuses in rows:
            print(
                f"{phase:<6} {bs:>8.2f} {inner:>7.2f} {ss:>9.2f} {total / MB / inner:>11.1f} {total / MB / ss:>12.1f} "
                f"{ss / bs:>9.2f}x {ss / inner:>9.2f}x {bmem:>8.0f}MB {smem:>9.0f}MB  {statuses}"
            )
    finally:
        for r in regs:
            r.stop()


if __name__ == "__main__":
    main()
