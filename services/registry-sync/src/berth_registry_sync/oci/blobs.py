"""Streaming blob copy: source GET → destination PATCH chunks, sha256 while streaming, resume after a cut."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from .client import RegistryClient
from .errors import DigestMismatch, RegistryError, UploadInterrupted
from .media import Descriptor
from .throttle import TokenBucket

log = logging.getLogger(__name__)

PIECE = 256 * 1024
SMALL_BLOB = 1024 * 1024  # below this a blob goes in one PUT (one round trip less)
_CUT = (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError, RegistryError)


class _Source:
    """The source blob as a byte stream that can be reopened at an offset."""

    def __init__(self, client: RegistryClient, repo: str, digest: str) -> None:
        self.client, self.repo, self.digest = client, repo, digest
        self.resp: aiohttp.ClientResponse | None = None
        self.pos = 0

    async def reopen(self, offset: int) -> None:
        self.close()
        self.resp = await self.client.open_blob(self.repo, self.digest, offset=offset)
        self.pos = offset if self.resp.status == 206 else 0
        while self.pos < offset:  # the server ignored Range: skip forward
            piece = await self.resp.content.read(min(PIECE, offset - self.pos))
            if not piece:
                raise RegistryError(f"source blob {self.repo}@{self.digest} ended at {self.pos} < {offset}")
            self.pos += len(piece)

    async def read(self, n: int) -> bytes:
        assert self.resp is not None
        piece = await self.resp.content.read(n)
        if not piece:
            raise RegistryError(f"source blob {self.repo}@{self.digest} ended early at byte {self.pos}")
        self.pos += len(piece)
        return piece

    def close(self) -> None:
        if self.resp is not None:
            self.resp.close()
            self.resp = None


async def copy_blob(
    src: RegistryClient,
    src_repo: str,
    dst: RegistryClient,
    dst_repo: str,
    desc: Descriptor,
    *,
    bucket: TokenBucket | None = None,
    location: str | None = None,
    max_resumes: int = 5,
) -> int:
    """Copy one blob; returns the bytes sent. Nothing is committed unless the sha256 matches."""
    if desc.size <= SMALL_BLOB:
        return await _copy_small(src, src_repo, dst, dst_repo, desc, bucket=bucket, location=location)
    source = _Source(src, src_repo, desc.digest)
    location = location or await dst.start_upload(dst_repo)
    committed, hasher = 0, hashlib.sha256()  # the registry holds ``committed`` bytes, hashed by ``hasher``
    sent = 0
    resumes = 0
    try:
        await source.reopen(0)
        while committed < desc.size:
            length = min(dst.chunk_size, desc.size - committed)
            running = hasher.copy()
            try:
                location = await dst.patch_upload(
                    dst_repo, location, _body(source, running, length, bucket), start=committed, length=length
                )
                committed += length
                sent += length
                hasher = running
                continue
            except _CUT as e:
                resumes += 1
                if resumes > max_resumes:
                    raise UploadInterrupted(
                        f"upload of {desc.digest} to {dst.endpoint.name}/{dst_repo} cut {resumes} times: {e}"
                    ) from e
                log.info("blob upload cut, resuming", extra={"digest": desc.digest, "at": committed, "error": str(e)})
                await asyncio.sleep(dst.retry.delay(resumes - 1))
            committed, hasher, location = await _resume(
                src, source, dst, dst_repo, location, committed=committed, hasher=hasher
            )
        actual = "sha256:" + hasher.hexdigest()
        if actual != desc.digest:
            await dst.cancel_upload(dst_repo, location)
            raise DigestMismatch(f"blob {src_repo}@{desc.digest} from {src.endpoint.name}", desc.digest, actual)
        await dst.finish_upload(dst_repo, location, desc.digest)
        return sent
    finally:
        source.close()


async def _resume(
    src: RegistryClient,
    source: _Source,
    dst: RegistryClient,
    dst_repo: str,
    location: str,
    *,
    committed: int,
    hasher: Any,
) -> tuple[int, Any, str]:
    """Ask the upload how far it got (its ``Range``); continue there, or start over if the upload is gone."""
    status = await dst.upload_status(dst_repo, location)
    if status is not None:
        held, fresh = status
        if held >= committed:
            # replay [committed, held) through the hasher only: the registry already has those bytes
            await source.reopen(committed)
            while source.pos < held:
                hasher.update(await source.read(min(PIECE, held - source.pos)))
            return held, hasher, fresh
        log.info("upload lost data, restarting", extra={"held": held, "committed": committed})
        await dst.cancel_upload(dst_repo, fresh)
    await source.reopen(0)
    return 0, hashlib.sha256(), await dst.start_upload(dst_repo)


async def _body(source: _Source, hasher: Any, length: int, bucket: TokenBucket | None) -> AsyncIterator[bytes]:
    left = length
    while left:
        piece = await source.read(min(PIECE, left))
        if bucket is not None:
            await bucket.take(len(piece))
        hasher.update(piece)
        left -= len(piece)
        yield piece


async def _copy_small(
    src: RegistryClient,
    src_repo: str,
    dst: RegistryClient,
    dst_repo: str,
    desc: Descriptor,
    *,
    bucket: TokenBucket | None,
    location: str | None,
) -> int:
    attempt = 0
    while True:
        source = _Source(src, src_repo, desc.digest)
        try:
            await source.reopen(0)
            chunks: list[bytes] = []
            got = 0
            while got < desc.size:
                piece = await source.read(min(PIECE, desc.size - got))
                got += len(piece)
                chunks.append(piece)
            break
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError) as e:
            attempt += 1
            if attempt >= src.retry.attempts:
                raise RegistryError(f"{src.endpoint.name}: reading blob {src_repo}@{desc.digest}: {e!r}") from e
            await asyncio.sleep(src.retry.delay(attempt))
        finally:
            source.close()
    data = b"".join(chunks)
    actual = "sha256:" + hashlib.sha256(data).hexdigest()
    if actual != desc.digest:
        if location:
            await dst.cancel_upload(dst_repo, location)
        raise DigestMismatch(f"blob {src_repo}@{desc.digest} from {src.endpoint.name}", desc.digest, actual)
    if bucket is not None:
        await bucket.take(len(data))
    await dst.finish_upload(dst_repo, location or await dst.start_upload(dst_repo), desc.digest, data=data)
    return len(data)
