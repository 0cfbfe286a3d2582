"""The copier against two real registries (Debian docker-registry with htpasswd auth)."""

from __future__ import annotations

import hashlib

import pytest
from berth_registry_sync.oci import (
    AuthenticationFailed,
    Copier,
    CopyOptions,
    RegistryClient,
)
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
