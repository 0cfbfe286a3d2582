"""Container images built from files on this machine, written as OCI layouts.

No base image is pulled: a layer is a tar of local files (Debian's busybox-static gives
``sh``, ``httpd``, ``sleep`` and the rest of busybox). An :class:`Image` can be written as
an OCI archive that ``ctr images import`` loads, or pushed to a registry
(``berth_testkit.registry``) through the distribution API (``berth_testkit.oci``).
"""

from __future__ import annotations

import gzip
import io
import json
import platform
import tarfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from .oci import OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, push_blob, sha256_digest
from .parts import binary

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
# the busybox applets the images link to /bin/busybox
BUSYBOX_APPLETS = (
    "sh", "httpd", "sleep", "echo", "cat", "ls", "wget", "hostname", "env", "id", "ps",
    "mkdir", "rm", "true", "false", "nc", "ip", "nslookup", "printf", "test", "[",
)  # fmt: skip


def _arch() -> str:
    machine = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


@dataclass(frozen=True)
class Entry:
    """One file in a layer: a regular file (``content``), a directory or a symlink (``link``)."""

    path: str
    content: bytes | None = None
    mode: int = 0o644
    link: str | None = None
    directory: bool = False


def layer(entries: Iterable[Entry]) -> bytes:
    """A reproducible gzipped tar of ``entries`` (mtime 0, uid/gid 0)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for e in sorted(entries, key=lambda x: x.path):
            info = tarfile.TarInfo(e.path.lstrip("/"))
            info.mtime, info.mode = 0, e.mode
            if e.directory:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif e.link is not None:
                info.type, info.linkname, info.mode = tarfile.SYMTYPE, e.link, 0o777
                tar.addfile(info)
            else:
                data = e.content or b""
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


def _is_static(elf: bytes) -> bool:
    # a dynamically linked executable names its loader (PT_INTERP) near the start of the file
    head = elf[:8192]
    return head[:4] == b"\x7fELF" and b"/ld-linux" not in head and b"/ld-musl" not in head


def busybox_layer(extra: Mapping[str, bytes] | None = None) -> bytes:
    """/bin/busybox (static, from Debian's busybox-static), applet links, /tmp, /etc and /www,
    plus ``extra`` files (path -> content)."""
    path = binary("busybox")
    data = Path(path).read_bytes()
    if not _is_static(data):
        raise RuntimeError(
            f"{path} is dynamically linked: install Debian's busybox-static package "
            "(scripts/install-parts.sh does) or point BERTH_BIN_BUSYBOX at a static busybox."
        )
    entries = [
        Entry("bin", directory=True, mode=0o755),
        Entry("etc", directory=True, mode=0o755),
        Entry("tmp", directory=True, mode=0o1777),
        Entry("www", directory=True, mode=0o755),
        Entry("bin/busybox", data, mode=0o755),
        Entry("etc/passwd", b"root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"),
        Entry("etc/group", b"root:x:0:\nnogroup:x:65534:\n"),
        *(Entry(f"bin/{a}", link="busybox") for a in BUSYBOX_APPLETS),
        *(Entry(p, content, mode=0o644) for p, content in (extra or {}).items()),
    ]
    return layer(entries)


@dataclass(frozen=True)
class Image:
    """An image: gzipped layers, a config and the manifest naming them."""

    name: str  # full reference, e.g. "berth.local/busybox:1"
    layers: tuple[bytes, ...]
    config: bytes
    manifest: bytes = field(repr=False)

    @property
    def digest(self) -> str:
        return sha256_digest(self.manifest)

    @property
    def blobs(self) -> dict[str, bytes]:
        return {sha256_digest(b): b for b in (self.config, *self.layers)}

    def write_oci_archive(self, path: Path) -> Path:
        """An OCI image layout as a tar, named by the ``io.containerd.image.name`` annotation
        (what ``ctr images import`` reads)."""
        tag = self.name.rsplit(":", 1)[1] if ":" in self.name.rsplit("/", 1)[-1] else "latest"
        index = {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": self.digest,
                    "size": len(self.manifest),
                    "platform": {"architecture": _arch(), "os": "linux"},
                    "annotations": {
                        "io.containerd.image.name": self.name,
                        "org.opencontainers.image.ref.name": tag,
                    },
                }
            ],
        }
        files = {
            "oci-layout": json.dumps({"imageLayoutVersion": "1.0.0"}).encode(),
            "index.json": json.dumps(index).encode(),
            **{f"blobs/sha256/{d.removeprefix('sha256:')}": b for d, b in self.blobs.items()},
            f"blobs/sha256/{self.digest.removeprefix('sha256:')}": self.manifest,
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(path, "w") as tar:
            for dirname in ("blobs", "blobs/sha256"):
                info = tarfile.TarInfo(dirname)
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            for name, data in files.items():
                info = tarfile.TarInfo(name)
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
        return path

    async def push(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        repository: str,
        tag: str,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> str:
        """Upload the blobs and the manifest as ``repository:tag``; returns the manifest digest."""
        for data in (self.config, *self.layers):
            await push_blob(session, base_url, repository, data, headers=headers)
        async with session.put(
            f"{base_url}/v2/{repository}/manifests/{tag}",
            data=self.manifest,
            headers={**(headers or {}), "Content-Type": OCI_MANIFEST},
        ) as resp:
            if resp.status != 201:
                raise RuntimeError(f"putting manifest {repository}:{tag}: HTTP {resp.status} {await resp.text()}")
        return self.digest


def build_image(
    name: str,
    layers: Sequence[bytes],
    *,
    entrypoint: Sequence[str] = (),
    cmd: Sequence[str] = (),
    env: Sequence[str] = ("PATH=/bin",),
    workdir: str = "/",
) -> Image:
    """An image of ``layers`` (gzipped tars, lowest first) with the given process settings."""
    diff_ids = [sha256_digest(gzip.decompress(b)) for b in layers]
    process: dict[str, object] = {"Env": list(env), "WorkingDir": workdir}
    if entrypoint:
        process["Entrypoint"] = list(entrypoint)
    if cmd:
        process["Cmd"] = list(cmd)
    config = json.dumps(
        {
            "architecture": _arch(),
            "os": "linux",
            "config": process,
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        },
        separators=(",", ":"),
        sort_keys=True,
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": sha256_digest(config), "size": len(config)},
            "layers": [{"mediaType": OCI_LAYER, "digest": sha256_digest(b), "size": len(b)} for b in layers],
        },
        separators=(",", ":"),
    ).encode()
    return Image(name, tuple(layers), config, manifest)


def busybox_image(name: str = "berth.local/busybox:1", *, extra: Mapping[str, bytes] | None = None) -> Image:
    """busybox as an image; with no command given, ``sh``."""
    return build_image(name, [busybox_layer(extra)], cmd=["/bin/sh"])


def pause_image(name: str = "berth.local/pause:1") -> Image:
    """A pod sandbox ("pause") image: busybox ``sleep infinity``. It only has to hold the pod's
    namespaces; containerd stops a sandbox with SIGKILL, so it need not handle SIGTERM as
    Kubernetes' C pause does, and as PID 1 of the pod it never has children to reap."""
    return build_image(name, [busybox_layer()], entrypoint=["/bin/sleep", "infinity"])
