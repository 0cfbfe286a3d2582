"""Token discovery, as ``kubeadm join --discovery-token-ca-cert-hash`` does it: read the
``cluster-info`` ConfigMap anonymously, check the bootstrap signer's JWS over it with the token
(only someone holding the token could have signed it), check the CA's public-key hash against the
pin, then read it again over TLS verified with that CA."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import ssl
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import yaml
from berth_common.ca_pin import ca_cert_hash

TOKEN = re.compile(r"^([a-z0-9]{6})\.([a-z0-9]{16})$")
CLUSTER_INFO = "/api/v1/namespaces/kube-public/configmaps/cluster-info"


class JoinError(Exception):
    """Joining cannot go on; the message says why and what to check."""


@dataclass(frozen=True, slots=True)
class ClusterInfo:
    server: str
    ca_pem: bytes


def parse_token(token: str) -> tuple[str, str]:
    m = TOKEN.match(token)
    if not m:
        raise JoinError("token: expected <6 chars>.<16 chars> of lowercase letters and digits (as issued)")
    return m.group(1), m.group(2)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verify_detached_jws(jws: str, content: str, *, token_id: str, token_secret: str) -> bool:
    """The bootstrap signer's ``header..signature`` (HS256, key = the token's secret, kid = its id)."""
    parts = jws.split(".")
    if len(parts) != 3 or parts[1]:
        return False
    try:
        header = json.loads(_unb64url(parts[0]))
        signature = _unb64url(parts[2])
    except ValueError:
        return False
    if not isinstance(header, dict) or header.get("alg") != "HS256" or header.get("kid") != token_id:
        return False
    signing_input = f"{parts[0]}.{_b64url(content.encode())}".encode()
    expected = hmac.new(token_secret.encode(), signing_input, hashlib.sha256).digest()
    return hmac.compare_digest(expected, signature)


def _unverified_tls() -> ssl.SSLContext:
    # Deliberate: nothing is trusted from this read until the JWS and the CA pin both check out.
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


async def _get_cluster_info(server: str, tls: ssl.SSLContext) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session,
        session.get(server.rstrip("/") + CLUSTER_INFO, ssl=tls) as resp,
    ):
        if resp.status in (401, 403):
            raise JoinError(f"{server} refuses anonymous reads of kube-public/cluster-info ({resp.status})")
        if resp.status == 404:
            raise JoinError(f"{server} has no kube-public/cluster-info: no join token was issued for this cluster")
        if resp.status != 200:
            raise JoinError(f"{server} answered {resp.status} for cluster-info")
        data: dict[str, Any] = await resp.json()
        return data


async def discover(
    server: str, token: str, ca_cert_hashes: list[str], *, wait_seconds: float = 60.0, interval: float = 1.0
) -> ClusterInfo:
    """The API server and CA a node may trust, or JoinError. Waits (up to ``wait_seconds``) for the
    bootstrap signer to sign cluster-info with a freshly issued token."""
    token_id, secret = parse_token(token)
    pins = [h.lower() for h in ca_cert_hashes]
    if not pins or not all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in pins):
        raise JoinError("ca-cert-hash: at least one sha256:<64 hex digits> is required (it is printed with the token)")
    deadline = time.monotonic() + wait_seconds
    while True:
        data: dict[str, Any] = {}
        try:
            data = (await _get_cluster_info(server, _unverified_tls())).get("data") or {}
        except (aiohttp.ClientError, TimeoutError) as exc:
            last = f"{server} unreachable: {exc or type(exc).__name__}"
        else:
            jws = data.get(f"jws-kubeconfig-{token_id}")
            if jws is not None:
                break
            last = (
                f"cluster-info carries no signature for token {token_id}: the token is unknown or expired "
                "(or the controller-manager's bootstrapsigner is not running)"
            )
        if time.monotonic() > deadline:
            raise JoinError(last)
        await asyncio.sleep(interval)
    content = str(data.get("kubeconfig") or "")
    if not verify_detached_jws(jws, content, token_id=token_id, token_secret=secret):
        raise JoinError(
            f"cluster-info's signature for token {token_id} does not match this token: refusing to trust it"
        )
    kubeconfig = yaml.safe_load(content)
    cluster = kubeconfig["clusters"][0]["cluster"]
    ca_pem = base64.b64decode(cluster["certificate-authority-data"])
    actual = ca_cert_hash(ca_pem)
    if actual not in pins:
        raise JoinError(
            f"the cluster CA's public key hash is {actual}, which matches no --ca-cert-hash: refusing to trust it"
        )
    info = ClusterInfo(server=str(cluster["server"]), ca_pem=ca_pem)
    # the same document over TLS checked against the CA just pinned: the server holds that CA's key
    await _get_cluster_info(info.server, ssl.create_default_context(cadata=ca_pem.decode()))
    return info
