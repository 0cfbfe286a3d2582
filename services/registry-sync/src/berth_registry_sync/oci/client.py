"""An OCI distribution API client on aiohttp: auth, retries, manifests, blobs, uploads, tags, referrers."""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import ssl
from collections.abc import AsyncIterable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import quote

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from .auth import Authenticator
from .errors import AuthenticationFailed, DigestMismatch, NotFound, RegistryError
from .media import ACCEPT, OCI_INDEX, Descriptor, Manifest, sha256_digest

_RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
_DIGEST = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")


@dataclass(frozen=True, kw_only=True)
class Endpoint:
    """Where a registry is and how to talk to it. The password never appears in ``repr``."""

    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    insecure: bool = False  # skip TLS verification
    ca_bundle: str | None = None  # PEM text of extra CAs to trust

    @property
    def name(self) -> str:
        u = URL(self.url)
        return f"{u.host}:{u.port}" if u.port else str(u.host)

    def ssl_context(self) -> ssl.SSLContext | bool:
        if self.insecure:
            return False
        if self.ca_bundle:
            ctx = ssl.create_default_context()
            ctx.load_verify_locations(cadata=self.ca_bundle)
            return ctx
        return True


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    attempts: int = 5
    base: float = 0.2
    cap: float = 5.0

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        if retry_after and retry_after.isdigit():
            return float(min(self.cap, float(retry_after)))
        return float(min(self.cap, self.base * 2.0**attempt)) * random.uniform(0.5, 1.0)


@dataclass(frozen=True)
class Head:
    digest: str
    media_type: str
    size: int


@dataclass(frozen=True)
class Reply:
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes


class RegistryClient:
    """One registry. Share one instance between workers: tokens and connections are pooled."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        session: aiohttp.ClientSession | None = None,
        retry: RetryPolicy | None = None,
        chunk_size: int = 32 * 1024 * 1024,
        trace_configs: Sequence[aiohttp.TraceConfig] = (),
    ) -> None:
        self.endpoint = endpoint
        self.base = URL(endpoint.url.rstrip("/"))
        self.retry = retry or RetryPolicy()
        self.chunk_size = chunk_size
        self._own_session = session is None
        self._session = session
        self._trace_configs = list(trace_configs)
        self.auth = Authenticator(registry=endpoint.name, username=endpoint.username, password=endpoint.password)
        self.referrers_api: bool | None = None  # learnt on first use

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(ssl=self.endpoint.ssl_context(), limit=64)
            self._session = aiohttp.ClientSession(
                connector=connector,
                trace_configs=self._trace_configs or None,
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=120),
                auto_decompress=False,
            )
        return self._session

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> RegistryClient:
        return self

    async def __aexit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        await self.close()

    # --- transport ------------------------------------------------------------------
    def url(self, path_or_url: str | URL) -> URL:
        if isinstance(path_or_url, URL):
            return path_or_url if path_or_url.is_absolute() else self.base.join(path_or_url)
        if path_or_url.startswith(("http://", "https://")):
            return URL(path_or_url, encoded=True)
        return URL(str(self.base) + path_or_url, encoded=True)

    async def open(
        self,
        method: str,
        target: str | URL,
        *,
        scopes: Sequence[str],
        headers: dict[str, str] | None = None,
        data: bytes | AsyncIterable[bytes] | None = None,
    ) -> aiohttp.ClientResponse:
        """One request with auth (answering at most one challenge). The caller releases the response."""
        url = self.url(target)
        for round_ in range(2):
            hdrs = dict(headers or {})
            sent = await self.auth.header(self.session, scopes)
            if sent:
                hdrs["Authorization"] = sent
            resp = await self.session.request(method, url, headers=hdrs, data=data, allow_redirects=True)
            if resp.status != 401:
                return resp
            challenge = resp.headers.get("WWW-Authenticate")
            resp.release()
            if round_ == 1 or not (data is None or isinstance(data, bytes)):
                raise AuthenticationFailed(self.endpoint.name, self.endpoint.username)
            await self.auth.on_challenge(self.session, challenge, scopes, sent=sent)
        raise AssertionError("unreachable")

    async def call(
        self,
        method: str,
        target: str | URL,
        *,
        scopes: Sequence[str],
        headers: dict[str, str] | None = None,
        data: bytes | None = None,
        ok: Sequence[int] = (200,),
        missing: Sequence[int] = (404,),
        what: str = "",
    ) -> Reply | None:
        """A request with retries on 408/429/5xx and connection errors; ``None`` on a ``missing`` status."""
        attempt = 0
        while True:
            try:
                resp = await self.open(method, target, scopes=scopes, headers=headers, data=data)
                async with resp:
                    body = await resp.read() if method != "HEAD" else b""
                    if resp.status in ok:
                        return Reply(resp.status, resp.headers, body)
                    if resp.status in missing:
                        return None
                    if resp.status in _RETRY_STATUS and attempt + 1 < self.retry.attempts:
                        await asyncio.sleep(self.retry.delay(attempt, resp.headers.get("Retry-After")))
                        attempt += 1
                        continue
                    raise RegistryError(
                        f"{self.endpoint.name}: {method} {what or self.url(target).path} answered "
                        f"{resp.status}: {_errors(body)}",
                        status=resp.status,
                    )
            except aiohttp.ClientSSLError as e:  # retrying cannot fix a certificate
                raise self._tls_error(e) from e
            except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError) as e:
                if attempt + 1 >= self.retry.attempts:
                    raise RegistryError(f"{self.endpoint.name}: {method} {what or target} failed: {e!r}") from e
                await asyncio.sleep(self.retry.delay(attempt))
                attempt += 1

    # --- basics -----------------------------------------------------------------------
    async def ping(self) -> None:
        """``GET /v2/``: checks reachability and credentials before anything is copied."""
        await self.call("GET", "/v2/", scopes=[], what="/v2/")

    async def list_tags(self, repo: str, *, page_size: int = 1000) -> list[str]:
        return await self._paged(f"/v2/{repo}/tags/list?n={page_size}", "tags", scopes=[_pull(repo)])

    async def catalog(self, *, page_size: int = 1000) -> list[str]:
        return await self._paged(f"/v2/_catalog?n={page_size}", "repositories", scopes=["registry:catalog:*"])

    async def _paged(self, first: str, key: str, *, scopes: Sequence[str]) -> list[str]:
        out: list[str] = []
        target: str | None = first
        while target:
            reply = await self.call("GET", target, scopes=scopes)
            if reply is None:
                break
            doc = _json(reply.body, what=target)
            out.extend(doc.get(key) or [])
            m = _LINK_NEXT.search(reply.headers.get("Link", ""))
            target = m.group(1) if m else None
        return out

    # --- manifests ----------------------------------------------------------------------
    async def head_manifest(self, repo: str, ref: str) -> Head | None:
        reply = await self.call("HEAD", f"/v2/{repo}/manifests/{ref}", scopes=[_pull(repo)], headers={"Accept": ACCEPT})
        if reply is None:
            return None
        digest = reply.headers.get("Docker-Content-Digest")
        if not digest:  # a registry that does not tell the digest on HEAD: fetch to learn it
            m = await self.get_manifest(repo, ref)
            return Head(m.digest, m.media_type, len(m.raw))
        return Head(digest, _base_type(reply.headers.get("Content-Type")), int(reply.headers.get("Content-Length", 0)))

    async def get_manifest(self, repo: str, ref: str) -> Manifest:
        reply = await self.call(
            "GET", f"/v2/{repo}/manifests/{ref}", scopes=[_pull(repo)], headers={"Accept": ACCEPT}, missing=()
        )
        assert reply is not None
        manifest = Manifest.parse(reply.body, content_type=reply.headers.get("Content-Type"))
        expected = ref if _DIGEST.match(ref) else reply.headers.get("Docker-Content-Digest")
        if expected and expected.startswith("sha256:") and expected != manifest.digest:
            raise DigestMismatch(f"manifest {repo}@{ref} on {self.endpoint.name}", expected, manifest.digest)
        return manifest

    async def put_manifest(self, repo: str, ref: str, manifest: Manifest) -> bool:
        """PUT the exact bytes; returns whether the registry indexed the subject (``OCI-Subject``)."""
        reply = await self.call(
            "PUT",
            f"/v2/{repo}/manifests/{ref}",
            scopes=[_push(repo)],
            headers={"Content-Type": manifest.media_type},
            data=manifest.raw,
            ok=(200, 201, 202),
            missing=(),
        )
        assert reply is not None
        got = reply.headers.get("Docker-Content-Digest")
        if got and got != manifest.digest:
            raise DigestMismatch(f"manifest PUT {repo}:{ref} on {self.endpoint.name}", manifest.digest, got)
        return "OCI-Subject" in reply.headers

    async def delete_manifest(self, repo: str, digest: str) -> None:
        await self.call("DELETE", f"/v2/{repo}/manifests/{digest}", scopes=[_push(repo, delete=True)], ok=(202, 200))

    async def referrers(self, repo: str, digest: str) -> list[Descriptor] | None:
        """Referrers through the OCI 1.1 API; ``None`` when the registry lacks it (use the tag schema)."""
        if self.referrers_api is False:
            return None
        reply = await self.call(
            "GET", f"/v2/{repo}/referrers/{digest}", scopes=[_pull(repo)], headers={"Accept": OCI_INDEX}, missing=(404,)
        )
        if reply is None or not _base_type(reply.headers.get("Content-Type")).startswith(OCI_INDEX):
            self.referrers_api = False
            return None
        self.referrers_api = True
        doc = _json(reply.body, what=f"referrers of {repo}@{digest}")
        return [Descriptor.from_json(d) for d in doc.get("manifests") or ()]

    # --- blobs ----------------------------------------------------------------------------
    async def head_blob(self, repo: str, digest: str) -> int | None:
        reply = await self.call("HEAD", f"/v2/{repo}/blobs/{digest}", scopes=[_pull(repo)])
        return None if reply is None else int(reply.headers.get("Content-Length", -1))

    async def open_blob(self, repo: str, digest: str, *, offset: int = 0) -> aiohttp.ClientResponse:
        """A streaming GET (from ``offset``); the caller reads and releases it. Retries the opening only."""
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        attempt = 0
        while True:
            try:
                resp = await self.open("GET", f"/v2/{repo}/blobs/{digest}", scopes=[_pull(repo)], headers=headers)
            except aiohttp.ClientSSLError as e:
                raise self._tls_error(e) from e
            except (aiohttp.ClientConnectionError, TimeoutError) as e:
                if attempt + 1 >= self.retry.attempts:
                    raise RegistryError(f"{self.endpoint.name}: GET blob {repo}@{digest} failed: {e!r}") from e
                await asyncio.sleep(self.retry.delay(attempt))
                attempt += 1
                continue
            if resp.status in (200, 206):
                return resp
            body = await resp.read()
            resp.release()
            if resp.status == 404:
                raise NotFound(f"{self.endpoint.name}: blob {repo}@{digest} not found", status=404)
            if resp.status in _RETRY_STATUS and attempt + 1 < self.retry.attempts:
                await asyncio.sleep(self.retry.delay(attempt, resp.headers.get("Retry-After")))
                attempt += 1
                continue
            raise RegistryError(
                f"{self.endpoint.name}: GET blob {repo}@{digest} answered {resp.status}: {_errors(body)}",
                status=resp.status,
            )

    async def mount_blob(self, repo: str, digest: str, *, from_repo: str) -> str | None:
        """Cross-repository mount. ``None`` when mounted; else the Location of a fresh upload."""
        reply = await self.call(
            "POST",
            f"/v2/{repo}/blobs/uploads/?mount={quote(digest)}&from={quote(from_repo, safe='/')}",
            scopes=[_push(repo), _pull(from_repo)],
            ok=(201, 202),
            missing=(),
        )
        assert reply is not None
        return None if reply.status == 201 else self._location(reply)

    async def start_upload(self, repo: str) -> str:
        reply = await self.call("POST", f"/v2/{repo}/blobs/uploads/", scopes=[_push(repo)], ok=(202,), missing=())
        assert reply is not None
        return self._location(reply)

    async def upload_status(self, repo: str, location: str) -> tuple[int, str] | None:
        """How many bytes an upload holds (from its ``Range``) and its fresh Location; ``None`` if gone."""
        reply = await self.call("GET", location, scopes=[_push(repo)], ok=(204, 200), missing=(404, 400, 416))
        if reply is None:
            return None
        return _range_end(reply.headers.get("Range")), self._location(reply, default=location)

    async def patch_upload(
        self, repo: str, location: str, body: AsyncIterable[bytes], *, start: int, length: int
    ) -> str:
        """One chunk (``Content-Range``); not retried here: the caller resumes from the upload's status."""
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Range": f"{start}-{start + length - 1}",
            "Content-Length": str(length),
        }
        resp = await self.open("PATCH", location, scopes=[_push(repo)], headers=headers, data=body)
        async with resp:
            text = await resp.read()
            if resp.status != 202:
                raise RegistryError(
                    f"{self.endpoint.name}: PATCH upload of {repo} answered {resp.status}: {_errors(text)}",
                    status=resp.status,
                )
            return self._location_from(resp.headers, default=location)

    async def finish_upload(self, repo: str, location: str, digest: str, *, data: bytes | None = None) -> None:
        target = location + ("&" if "?" in location else "?") + "digest=" + quote(digest)
        headers = {"Content-Type": "application/octet-stream"}
        await self.call(
            "PUT",
            target,
            scopes=[_push(repo)],
            headers=headers,
            data=data or b"",
            ok=(201, 204),
            missing=(),
            what=f"blob {repo}@{digest}",
        )

    async def cancel_upload(self, repo: str, location: str) -> None:
        # best effort: an abandoned upload is garbage-collected by the registry
        with contextlib.suppress(RegistryError):
            await self.call("DELETE", location, scopes=[_push(repo)], ok=(204, 200, 202), missing=(404,))

    async def push_blob(self, repo: str, data: bytes) -> Descriptor:
        """Monolithic upload of a small blob (test images, configs)."""
        digest = sha256_digest(data)
        if await self.head_blob(repo, digest) is None:
            await self.finish_upload(repo, await self.start_upload(repo), digest, data=data)
        return Descriptor(media_type="application/octet-stream", digest=digest, size=len(data))

    def _tls_error(self, e: Exception) -> RegistryError:
        return RegistryError(
            f"{self.endpoint.name}: TLS verification failed ({e}); trust its CA with ca_bundle "
            "or, for a test registry only, set insecure"
        )

    def _location(self, reply: Reply, *, default: str | None = None) -> str:
        return self._location_from(reply.headers, default=default)

    def _location_from(self, headers: CIMultiDictProxy[str], *, default: str | None = None) -> str:
        loc = headers.get("Location") or default
        if not loc:
            raise RegistryError(f"{self.endpoint.name}: upload response without a Location")
        return loc if loc.startswith(("http://", "https://")) else str(self.base) + loc


def _pull(repo: str) -> str:
    return f"repository:{repo}:pull"


def _push(repo: str, *, delete: bool = False) -> str:
    return f"repository:{repo}:{'delete' if delete else 'pull,push'}"


def _base_type(ct: str | None) -> str:
    return (ct or "").split(";", 1)[0].strip()


def _range_end(value: str | None) -> int:
    """``Range: 0-<last>`` → the number of bytes held (``0-0`` is what registries send for empty)."""
    if not value:
        return 0
    _, _, last = value.partition("-")
    n = int(last) if last.strip().isdigit() else -1
    return 0 if n <= 0 else n + 1


def _json(body: bytes, *, what: str) -> dict[str, Any]:
    import json

    try:
        doc = json.loads(body)
    except ValueError as e:
        raise RegistryError(f"{what}: response is not JSON: {e}") from e
    if not isinstance(doc, dict):
        raise RegistryError(f"{what}: response is not a JSON object")
    return doc


def _errors(body: bytes) -> str:
    try:
        import json

        doc = json.loads(body)
        errs = doc.get("errors") or []
        return "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errs) or body[:200].decode(errors="replace")
    except (ValueError, AttributeError):
        return body[:200].decode(errors="replace")
