"""Manifest media types and what a manifest refers to (children, blobs, subject)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
INDEXES = frozenset({DOCKER_LIST, OCI_INDEX})
IMAGES = frozenset({DOCKER_MANIFEST, OCI_MANIFEST})
ACCEPT = ", ".join([OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST])
NON_DISTRIBUTABLE = frozenset(
    {
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    }
)


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def referrers_tag(digest: str) -> str:
    """The OCI 1.1 fallback tag that lists the referrers of ``digest``: ``sha256-<hex>``."""
    algo, _, hexpart = digest.partition(":")
    return f"{algo}-{hexpart}"


@dataclass(frozen=True, kw_only=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    platform: dict[str, Any] | None = None
    urls: tuple[str, ...] = ()
    artifact_type: str | None = None

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Descriptor:
        try:
            return cls(
                media_type=str(d.get("mediaType", "")),
                digest=str(d["digest"]),
                size=int(d["size"]),
                platform=d.get("platform"),
                urls=tuple(d.get("urls") or ()),
                artifact_type=d.get("artifactType"),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"bad descriptor {d!r}: {e}") from e

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.artifact_type:
            out["artifactType"] = self.artifact_type
        if self.platform:
            out["platform"] = self.platform
        return out


@dataclass(frozen=True, kw_only=True)
class Manifest:
    """A manifest as fetched: the exact bytes (never re-serialised) and what they refer to."""

    raw: bytes
    media_type: str
    digest: str
    children: tuple[Descriptor, ...] = ()  # manifests an index/list points at
    blobs: tuple[Descriptor, ...] = ()  # config + layers of an image manifest
    subject: Descriptor | None = None
    artifact_type: str | None = None
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEXES

    @classmethod
    def parse(cls, raw: bytes, *, content_type: str | None) -> Manifest:
        try:
            doc = json.loads(raw)
        except ValueError as e:
            raise ValueError(f"manifest is not JSON: {e}") from e
        if not isinstance(doc, dict):
            raise ValueError("manifest is not a JSON object")
        media_type = str(doc.get("mediaType") or "") or _base(content_type) or ""
        if not media_type:
            media_type = OCI_INDEX if "manifests" in doc else OCI_MANIFEST
        children: tuple[Descriptor, ...] = ()
        blobs: list[Descriptor] = []
        if media_type in INDEXES or "manifests" in doc:
            children = tuple(Descriptor.from_json(m) for m in doc.get("manifests") or ())
        else:
            if isinstance(doc.get("config"), dict):
                blobs.append(Descriptor.from_json(doc["config"]))
            blobs.extend(Descriptor.from_json(x) for x in doc.get("layers") or ())
            blobs.extend(Descriptor.from_json(x) for x in doc.get("blobs") or ())
        subject = Descriptor.from_json(doc["subject"]) if isinstance(doc.get("subject"), dict) else None
        artifact_type = doc.get("artifactType") or (
            doc["config"].get("mediaType") if isinstance(doc.get("config"), dict) else None
        )
        return cls(
            raw=raw,
            media_type=media_type,
            digest=sha256_digest(raw),
            children=children,
            blobs=tuple(blobs),
            subject=subject,
            artifact_type=artifact_type,
            annotations=dict(doc.get("annotations") or {}),
        )

    def descriptor(self) -> Descriptor:
        return Descriptor(
            media_type=self.media_type, digest=self.digest, size=len(self.raw), artifact_type=self.artifact_type
        )


def _base(content_type: str | None) -> str | None:
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip() or None
