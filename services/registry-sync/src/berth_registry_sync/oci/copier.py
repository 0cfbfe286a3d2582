"""Copy images between registries: manifests byte for byte (indexes with every platform), blobs
streamed, referrers along, and HEAD first so that what is already there costs one request."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

from .blobs import copy_blob
from .client import RegistryClient
from .errors import RegistryError
from .media import OCI_INDEX, Descriptor, Manifest, referrers_tag
from .throttle import TokenBucket

Status = Literal["copied", "skipped", "exists", "would-copy", "failed"]


@dataclass(kw_only=True)
class CopyResult:
    repository: str
    tag: str
    digest: str | None = None
    status: Status = "copied"
    bytes: int = 0
    blobs_copied: int = 0
    blobs_mounted: int = 0
    blobs_skipped: int = 0
    manifests: int = 0
    referrers: int = 0
    duration: float = 0.0
    error: str | None = None


@dataclass
class _Counters:
    bytes: int = 0
    blobs_copied: int = 0
    blobs_mounted: int = 0
    blobs_skipped: int = 0
    manifests: int = 0
    referrers: int = 0


@dataclass(kw_only=True)
class CopyOptions:
    override: bool = True  # replace a destination tag that points elsewhere
    referrers: bool = True
    dry_run: bool = False
    blob_concurrency: int = 4
    bucket: TokenBucket | None = None


BlobHook = Callable[[str, Descriptor, int], Awaitable[None]]


@dataclass
class Copier:
    """One source → destination pair. Safe to share between the workers of one execution."""

    src: RegistryClient
    dst: RegistryClient
    options: CopyOptions = field(default_factory=CopyOptions)

    def __post_init__(self) -> None:
        self._blob_slots = asyncio.Semaphore(self.options.blob_concurrency)
        self._inflight: dict[tuple[str, str], asyncio.Task[tuple[str, int]]] = {}
        self._dst_has: dict[str, set[str]] = {}  # blob digest -> destination repos known to hold it
        self._same_registry = self.src.base == self.dst.base

    async def copy_tag(self, src_repo: str, tag: str, dst_repo: str | None = None) -> CopyResult:
        dst_repo = dst_repo or src_repo
        started = time.monotonic()
        result = CopyResult(repository=dst_repo, tag=tag)
        counters = _Counters()
        try:
            head = await self.src.head_manifest(src_repo, tag)
            if head is None:
                raise RegistryError(f"{self.src.endpoint.name}: {src_repo}:{tag} not found", status=404)
            result.digest = head.digest
            there = await self.dst.head_manifest(dst_repo, tag)
            if there is not None and there.digest == head.digest:
                result.status = "skipped"
            elif there is not None and not self.options.override:
                result.status = "exists"
            elif self.options.dry_run:
                result.status = "would-copy"
            else:
                manifest = await self.src.get_manifest(src_repo, head.digest)
                await self._copy_tree(src_repo, dst_repo, manifest, tag=tag, counters=counters)
                result.status = "copied"
        except Exception as e:  # the task records any failure; the execution goes on
            result.status = "failed"
            result.error = str(e) or repr(e)
        result.bytes = counters.bytes
        result.blobs_copied, result.blobs_mounted = counters.blobs_copied, counters.blobs_mounted
        result.blobs_skipped, result.manifests = counters.blobs_skipped, counters.manifests
        result.referrers = counters.referrers
        result.duration = time.monotonic() - started
        return result

    async def copy_referrers_tag(self, src_repo: str, tag: str, dst_repo: str | None = None) -> CopyResult:
        """Mirror a tag-schema referrers listing (``sha256-<hex>``) whose subject the destination has:
        catches signatures added to an image after it was copied, with HEAD requests only when unchanged."""
        dst_repo = dst_repo or src_repo
        started = time.monotonic()
        result = CopyResult(repository=dst_repo, tag=tag)
        counters = _Counters()
        try:
            head = await self.src.head_manifest(src_repo, tag)
            if head is None:
                raise RegistryError(f"{self.src.endpoint.name}: {src_repo}:{tag} not found", status=404)
            result.digest = head.digest
            there = await self.dst.head_manifest(dst_repo, tag)
            subject = "sha256:" + tag.removeprefix("sha256-")
            if there is not None and there.digest == head.digest:
                result.status = "skipped"
            elif await self.dst.head_manifest(dst_repo, subject) is None:
                result.status = "skipped"  # its subject is not replicated (filtered out or not yet copied)
            elif self.options.dry_run:
                result.status = "would-copy"
            else:
                listing = await self.src.get_manifest(src_repo, head.digest)
                await self._copy_tree(src_repo, dst_repo, listing, tag=tag, counters=counters)
                counters.referrers += len(listing.children)
        except Exception as e:
            result.status = "failed"
            result.error = str(e) or repr(e)
        result.bytes, result.manifests, result.referrers = counters.bytes, counters.manifests, counters.referrers
        result.blobs_copied, result.blobs_mounted = counters.blobs_copied, counters.blobs_mounted
        result.duration = time.monotonic() - started
        return result

    async def _copy_tree(
        self, src_repo: str, dst_repo: str, manifest: Manifest, *, tag: str | None, counters: _Counters
    ) -> None:
        """Children first (platforms or layers), then the manifest itself, then what refers to it."""
        if manifest.is_index:
            await asyncio.gather(
                *(self._copy_child(src_repo, dst_repo, child, counters) for child in manifest.children)
            )
        else:
            await asyncio.gather(
                *(self._ensure_blob(src_repo, dst_repo, b, counters) for b in manifest.blobs if not b.urls)
            )
        indexed = await self.dst.put_manifest(dst_repo, tag or manifest.digest, manifest)
        counters.manifests += 1
        if manifest.subject is not None and not indexed:
            await self._update_referrers_tag(dst_repo, manifest)
        if self.options.referrers:
            await self._copy_referrers(src_repo, dst_repo, manifest.digest, counters)

    async def _copy_child(self, src_repo: str, dst_repo: str, child: Descriptor, counters: _Counters) -> None:
        if await self.dst.head_manifest(dst_repo, child.digest) is not None:
            return
        manifest = await self.src.get_manifest(src_repo, child.digest)
        await self._copy_tree(src_repo, dst_repo, manifest, tag=None, counters=counters)

    async def _copy_referrers(self, src_repo: str, dst_repo: str, digest: str, counters: _Counters) -> None:
        refs = await self.src.referrers(src_repo, digest)
        if refs is None:  # tag schema: an index at sha256-<hex> lists them
            if await self.src.head_manifest(src_repo, referrers_tag(digest)) is None:
                return
            listing = await self.src.get_manifest(src_repo, referrers_tag(digest))
            refs = list(listing.children)
        for ref in refs:
            if await self.dst.head_manifest(dst_repo, ref.digest) is not None:
                continue
            manifest = await self.src.get_manifest(src_repo, ref.digest)
            if manifest.subject is None or manifest.subject.digest != digest:
                continue  # a stale listing entry: not a referrer of this digest
            await self._copy_tree(src_repo, dst_repo, manifest, tag=None, counters=counters)
            counters.referrers += 1

    async def _update_referrers_tag(self, dst_repo: str, referrer: Manifest) -> None:
        """For a destination without the referrers API, keep its ``sha256-<hex>`` index up to date."""
        assert referrer.subject is not None
        tag = referrers_tag(referrer.subject.digest)
        descs: list[dict[str, object]] = []
        if await self.dst.head_manifest(dst_repo, tag) is not None:
            current = await self.dst.get_manifest(dst_repo, tag)
            if any(c.digest == referrer.digest for c in current.children):
                return
            descs = json.loads(current.raw).get("manifests") or []
        entry = referrer.descriptor().to_json()
        if referrer.annotations:
            entry["annotations"] = referrer.annotations
        descs.append(entry)
        raw = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descs}).encode()
        await self.dst.put_manifest(dst_repo, tag, Manifest.parse(raw, content_type=OCI_INDEX))

    async def _ensure_blob(self, src_repo: str, dst_repo: str, desc: Descriptor, counters: _Counters) -> None:
        key = (dst_repo, desc.digest)
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.ensure_future(self._blob(src_repo, dst_repo, desc))
            self._inflight[key] = task
            task.add_done_callback(lambda _t: self._inflight.pop(key, None))
        how, sent = await asyncio.shield(task)
        if how == "copied":
            counters.blobs_copied += 1
            counters.bytes += sent
        elif how == "mounted":
            counters.blobs_mounted += 1
        else:
            counters.blobs_skipped += 1

    async def _blob(self, src_repo: str, dst_repo: str, desc: Descriptor) -> tuple[str, int]:
        async with self._blob_slots:
            holders = self._dst_has.setdefault(desc.digest, set())
            if dst_repo in holders or await self.dst.head_blob(dst_repo, desc.digest) is not None:
                holders.add(dst_repo)
                return "skipped", 0
            location: str | None = None
            mount_from = src_repo if self._same_registry else next(iter(holders), None)
            if mount_from is not None:
                location = await self.dst.mount_blob(dst_repo, desc.digest, from_repo=mount_from)
                if location is None:
                    holders.add(dst_repo)
                    return "mounted", 0
            sent = await copy_blob(
                self.src, src_repo, self.dst, dst_repo, desc, bucket=self.options.bucket, location=location
            )
            holders.add(dst_repo)
            return "copied", sent
