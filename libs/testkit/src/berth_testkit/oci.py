"""Push a small image to a registry by hand through the OCI distribution API."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urljoin

import aiohttp

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer_tar_gz(files: Mapping[str, bytes]) -> bytes:
    """A reproducible gzipped tar of ``files`` (path -> content)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, content in sorted(files.items()):
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.mtime = len(content), 0o644, 0
            tar.addfile(info, io.BytesIO(content))
    return gzip.compress(raw.getvalue(), mtime=0)


@dataclass(frozen=True)
class PushedImage:
    repository: str
    tag: str
    digest: str  # the manifest digest
    manifest: bytes
    blobs: dict[str, bytes]  # digest -> content (config and layer)


async def push_blob(
    session: aiohttp.ClientSession,
    base_url: str,
    repository: str,
    data: bytes,
    *,
    headers: Mapping[str, str] | None = None,
) -> str:
    digest = sha256_digest(data)
    async with session.post(f"{base_url}/v2/{repository}/blobs/uploads/", headers=headers) as resp:
        if resp.status != 202:
            raise RuntimeError(f"starting a blob upload: HTTP {resp.status} {await resp.text()}")
        location = urljoin(f"{base_url}/", resp.headers["Location"])
    sep = "&" if "?" in location else "?"
    async with session.put(
        f"{location}{sep}digest={digest}",
        data=data,
        headers={**(headers or {}), "Content-Type": "application/octet-stream"},
    ) as resp:
        if resp.status != 201:
            raise RuntimeError(f"uploading blob {digest}: HTTP {resp.status} {await resp.text()}")
    return digest


async def push_image(
    session: aiohttp.ClientSession,
    base_url: str,
    repository: str,
    tag: str,
    *,
    files: Mapping[str, bytes] | None = None,
    headers: Mapping[str, str] | None = None,
) -> PushedImage:
    """Upload one layer and a config, then the OCI manifest under ``tag``.
    ``headers`` carry the credentials, e.g. ``Registry.auth_headers``."""
    layer = layer_tar_gz(files or {"hello.txt": f"{repository}:{tag}\n".encode()})
    diff_id = sha256_digest(gzip.decompress(layer))
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        },
        separators=(",", ":"),
    ).encode()
    config_digest = await push_blob(session, base_url, repository, config, headers=headers)
    layer_digest = await push_blob(session, base_url, repository, layer, headers=headers)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config)},
            "layers": [{"mediaType": OCI_LAYER, "digest": layer_digest, "size": len(layer)}],
        },
        separators=(",", ":"),
    ).encode()
    async with session.put(
        f"{base_url}/v2/{repository}/manifests/{tag}",
        data=manifest,
        headers={**(headers or {}), "Content-Type": OCI_MANIFEST},
    ) as resp:
        if resp.status != 201:
            raise RuntimeError(f"putting manifest {repository}:{tag}: HTTP {resp.status} {await resp.text()}")
        digest = resp.headers.get("Docker-Content-Digest") or sha256_digest(manifest)
    return PushedImage(repository, tag, digest, manifest, {config_digest: config, layer_digest: layer})
