"""The copier against two real registries (Debian docker-registry with htpasswd auth)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import tracemalloc

import pytest
from berth_registry_sync.oci import (
    AuthenticationFailed,
    Copier,
    CopyOptions,
    Descriptor,
    RegistryClient,
    RetryPolicy,
    TokenBucket,
)
from berth_registry_sync.oci.blobs import copy_blob
from berth_registry_sync.oci.media import referrers_tag
from berth_testkit.registry import Registry

from .conftest import CuttingProxy, Images, Traffic, endpoint


async def test_multi_arch_index_is_copied_with_identical_digests(
    registry_a: Registry, registry_b: Registry, images_a: Images
) -> None:
    index, children = await images_a.index(
        "apps/web", "1.0", platforms=(("linux", "amd64"), ("linux", "arm64"), ("linux", "s390x"))
    )
    docker_list, _ = await images_a.index("apps/web", "docker", docker=True)
    async with RegistryClient(endpoint(registry_a)) as a, RegistryClient(endpoint(registry_b)) as b:
        copier = Copier(a, b)
        r1 = await copier.copy_tag("apps/web", "1.0")
        r2 = await copier.copy_tag("apps/web", "docker", "mirror/web")
        assert (r1.status, r1.error, r2.status) == ("copied", None, "copied")
        assert r1.digest == index.digest
        got = await b.get_manifest("apps/web", "1.0")
        assert got.raw == index.raw and got.digest == index.digest
        assert (await b.get_manifest("mirror/web", "docker")).raw == docker_list.raw
        for child in children:  # every platform, byte for byte, with all its blobs
            assert (await b.get_manifest("apps/web", child.digest)).raw == child.raw
            for blob in child.blobs:
                assert await b.head_blob("apps/web", blob.digest) == blob.size
        assert r1.manifests == 4 and r1.blobs_copied == 6


async def test_unchanged_repository_resyncs_with_head_requests_only(
    registry_a: Registry, registry_b: Registry, images_a: Images
) -> None:
    await images_a.index("base/os", "3.19")
    await images_a.image("base/os", "3.18", layers=(3 * 1024 * 1024,))
    async with RegistryClient(endpoint(registry_a)) as a, RegistryClient(endpoint(registry_b)) as b:
        for tag in ("3.19", "3.18"):
            assert (await Copier(a, b).copy_tag("base/os", tag)).status == "copied"
    traffic = Traffic()
    async with (
        RegistryClient(endpoint(registry_a), trace_configs=[traffic.config()]) as a,
        RegistryClient(endpoint(registry_b), trace_configs=[traffic.config()]) as b,
    ):
        results = [await Copier(a, b).copy_tag("base/os", tag) for tag in ("3.19", "3.18")]
    assert [r.status for r in results] == ["skipped", "skipped"]
    # basic auth is learnt from the first 401 of each registry; everything else is a HEAD
    assert set(traffic.methods) == {"HEAD"}, traffic.lines
    assert traffic.methods["HEAD"] == 4 + 2, traffic.lines


async def test_blob_upload_cut_midway_resumes_without_corruption(
    registry_a: Registry, registry_b: Registry, images_a: Images
) -> None:
    size = 5 * 1024 * 1024 + 123
    image = await images_a.image("big/blob", "v1", layers=(size,))
    layer = image.blobs[1]
    proxy = await CuttingProxy(registry_b.url, cut_after=1536 * 1024, cuts=2).start()
    try:
        async with (
            RegistryClient(endpoint(registry_a)) as a,
            RegistryClient(endpoint(registry_b, url=proxy.url), chunk_size=2 * 1024 * 1024) as b,
        ):
            result = await Copier(a, b).copy_tag("big/blob", "v1")
        assert (result.status, result.error) == ("copied", None)
        assert proxy.cut_count == 2
        assert proxy.patches >= 5  # 3 chunks plus the two resumed ones
    finally:
        await proxy.stop()
    async with RegistryClient(endpoint(registry_b)) as b:
        resp = await b.open_blob("big/blob", layer.digest)
        h = hashlib.sha256()
        async with resp:
            async for piece in resp.content.iter_chunked(1 << 16):
                h.update(piece)
        assert "sha256:" + h.hexdigest() == layer.digest
        assert (await b.get_manifest("big/blob", "v1")).digest == image.digest


async def test_wrong_password_is_a_clear_error_and_copies_nothing(
    registry_a: Registry, registry_b: Registry, images_a: Images
) -> None:
    await images_a.image("apps/api", "1.0")
    async with (
        RegistryClient(endpoint(registry_a)) as a,
        RegistryClient(endpoint(registry_b, password="not-the-password")) as b,
    ):
        with pytest.raises(AuthenticationFailed) as err:
            await b.ping()
        assert str(err.value) == f"authentication failed for {registry_b.host} as {registry_b.username}"
        result = await Copier(a, b).copy_tag("apps/api", "1.0")
        assert result.status == "failed"
        assert result.error == f"authentication failed for {registry_b.host} as {registry_b.username}"
    async with RegistryClient(endpoint(registry_b)) as b:
        assert await b.catalog() == []


async def test_referrers_are_copied_along_through_the_tag_schema(
    registry_a: Registry, registry_b: Registry, images_a: Images
) -> None:
    image = await images_a.image("signed/app", "1.0")
    sig = await images_a.signature("signed/app", image)
    async with RegistryClient(endpoint(registry_a)) as a, RegistryClient(endpoint(registry_b)) as b:
        result = await Copier(a, b).copy_tag("signed/app", "1.0")
        assert (result.status, result.referrers) == ("copied", 1)
        assert (await b.get_manifest("signed/app", sig.digest)).raw == sig.raw
        listing = await b.get_manifest("signed/app", referrers_tag(image.digest))
        assert [c.digest for c in listing.children] == [sig.digest]
        # a signature added after the image was copied: the listing tag brings it over
        sig2 = await images_a.signature("signed/app", image)
        copier = Copier(a, b)
        assert (await copier.copy_tag("signed/app", "1.0")).status == "skipped"
        again = await copier.copy_referrers_tag("signed/app", referrers_tag(image.digest))
        assert (again.status, again.error) == ("copied", None)
        assert (await b.get_manifest("signed/app", sig2.digest)).raw == sig2.raw
        src_listing = await a.get_manifest("signed/app", referrers_tag(image.digest))
        assert (await b.get_manifest("signed/app", referrers_tag(image.digest))).raw == src_listing.raw
        assert (await copier.copy_referrers_tag("signed/app", referrers_tag(image.digest))).status == "skipped"


async def test_dry_run_and_override(registry_a: Registry, registry_b: Registry, images_a: Images) -> None:
    await images_a.image("apps/x", "1.0")
    async with RegistryClient(endpoint(registry_a)) as a, RegistryClient(endpoint(registry_b)) as b:
        dry = await Copier(a, b, CopyOptions(dry_run=True)).copy_tag("apps/x", "1.0")
        assert dry.status == "would-copy"
        assert await b.head_manifest("apps/x", "1.0") is None
        other = Images(b)
        await other.image("apps/x", "1.0")
        kept = await Copier(a, b, CopyOptions(override=False)).copy_tag("apps/x", "1.0")
        assert kept.status == "exists"
        replaced = await Copier(a, b, CopyOptions(override=True)).copy_tag("apps/x", "1.0")
        assert replaced.status == "copied"
        assert (await b.head_manifest("apps/x", "1.0")) == (await a.head_manifest("apps/x", "1.0"))


@pytest.mark.parametrize("size", [4096, 3 * 1024 * 1024])  # the one-PUT path and the chunked path
async def test_corrupted_blob_is_refused_and_nothing_is_committed(
    registry_a: Registry, registry_b: Registry, images_a: Images, size: int
) -> None:
    image = await images_a.image("apps/bad", "1.0", layers=(size,))
    proxy = await CuttingProxy(registry_a.url, corrupt_blobs=True).start()
    try:
        async with (
            RegistryClient(endpoint(registry_a, url=proxy.url)) as a,
            RegistryClient(endpoint(registry_b), chunk_size=1024 * 1024) as b,
        ):
            result = await Copier(a, b).copy_tag("apps/bad", "1.0")
            assert result.status == "failed"
            assert result.error is not None and "digest mismatch" in result.error
            for blob in image.blobs:
                assert await b.head_blob("apps/bad", blob.digest) is None
            assert await b.head_manifest("apps/bad", "1.0") is None
    finally:
        await proxy.stop()


async def test_retries_with_backoff_on_503(registry_a: Registry, registry_b: Registry, images_a: Images) -> None:
    image = await images_a.image("apps/flaky", "1.0")
    proxy = await CuttingProxy(registry_b.url, fail_first=3).start()
    try:
        async with (
            RegistryClient(endpoint(registry_a)) as a,
            RegistryClient(endpoint(registry_b, url=proxy.url), retry=RetryPolicy(base=0.01)) as b,
        ):
            result = await Copier(a, b).copy_tag("apps/flaky", "1.0")
        assert (result.status, result.error, proxy.failed) == ("copied", None, 3)
    finally:
        await proxy.stop()
    async with RegistryClient(endpoint(registry_b)) as b:
        assert (await b.get_manifest("apps/flaky", "1.0")).raw == image.raw


async def test_tag_list_pagination_and_cross_repository_mount(
    registry_a: Registry, registry_b: Registry, images_a: Images
) -> None:
    tags = [f"1.{i}" for i in range(7)]
    layer = await images_a.blob("apps/many", 2 * 1024 * 1024)
    for t in tags:
        await images_a.image("apps/many", t, layers=(), shared=(layer,))
    traffic = Traffic()
    async with (
        RegistryClient(endpoint(registry_a), trace_configs=[traffic.config()]) as a,
        RegistryClient(endpoint(registry_b)) as b,
    ):
        assert sorted(await a.list_tags("apps/many", page_size=3)) == sorted(tags)
        for i in range(4):
            await images_a.image(f"paged/r{i}", "1", layers=())
        # distribution 2.8 pages the catalog (Link: rel="next"); 5 repositories, 2 a page
        assert await a.catalog(page_size=2) == ["apps/many", *[f"paged/r{i}" for i in range(4)]]
        assert sum(1 for line in traffic.lines if line == "GET /v2/_catalog") == 3
        copier = Copier(a, b)
        first = await copier.copy_tag("apps/many", "1.0")
        second = await copier.copy_tag("apps/many", "1.0", "other/many")
        # the second repository gets both blobs by mount: no bytes move
        assert (first.blobs_copied, second.blobs_mounted, second.blobs_copied, second.bytes) == (2, 2, 0, 0)
        assert await b.head_blob("other/many", layer.digest) == layer.size


async def test_bandwidth_cap_holds_for_all_workers_together() -> None:
    bucket = TokenBucket(1024 * 1024, burst=64 * 1024)
    began = asyncio.get_running_loop().time()

    async def worker() -> None:
        for _ in range(8):
            await bucket.take(64 * 1024)

    await asyncio.gather(*(worker() for _ in range(4)))  # 2 MiB through a 1 MiB/s cap
    elapsed = asyncio.get_running_loop().time() - began
    assert elapsed >= 1.8, elapsed


async def test_memory_stays_flat_while_a_large_blob_streams(registry_a: Registry, registry_b: Registry) -> None:
    size = 48 * 1024 * 1024
    async with RegistryClient(endpoint(registry_a)) as a, RegistryClient(endpoint(registry_b)) as b:
        pushed = await a.push_blob("big/one", os.urandom(size))
        desc = Descriptor(media_type="application/octet-stream", digest=pushed.digest, size=size)
        await b.ping()
        tracemalloc.start()
        try:
            sent = await copy_blob(a, "big/one", b, "big/one", desc)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert sent == size and await b.head_blob("big/one", desc.digest) == size
        assert peak < 8 * 1024 * 1024, f"peak Python allocations {peak / 1e6:.1f} MB for a 48 MiB blob"
