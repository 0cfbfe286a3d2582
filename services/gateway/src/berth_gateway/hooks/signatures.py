"""Signature checks of the chat platforms' inbound requests (as the platforms document them)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ..jsonbody import loads
from ..problems import ApiError


def _now_ms() -> int:
    import time

    return int(time.time() * 1000)


def dingtalk_sign(app_secret: str, timestamp: str) -> str:
    mac = hmac.new(app_secret.encode(), f"{timestamp}\n{app_secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def _digits(value: str) -> bool:
    return value.isascii() and value.isdigit() and len(value) <= 16


def verify_dingtalk(*, app_secret: str, timestamp: str, sign: str, window_s: int, now_ms: int | None = None) -> None:
    """Outgoing robot: ``sign`` = base64(HMAC-SHA256(appSecret, timestamp + "\\n" + appSecret)),
    and the timestamp (ms) within the gateway's replay window (DingTalk itself allows an hour;
    the caller also remembers the pair so that it is used once)."""
    if not _digits(timestamp) or not sign:
        raise ApiError(401, "DingTalk timestamp/sign headers missing")
    now = _now_ms() if now_ms is None else now_ms
    if abs(now - int(timestamp)) > window_s * 1000:
        raise ApiError(401, f"DingTalk timestamp outside the replay window ({window_s}s)")
    if not hmac.compare_digest(dingtalk_sign(app_secret, timestamp), sign):
        raise ApiError(401, "DingTalk signature does not match")


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def verify_slack(
    *, secret: str, timestamp: str, signature: str, body: bytes, window_s: int, now_s: int | None = None
) -> None:
    if not _digits(timestamp) or not signature:
        raise ApiError(401, "Slack X-Slack-Request-Timestamp / X-Slack-Signature missing")
    now = (_now_ms() // 1000) if now_s is None else now_s
    if abs(now - int(timestamp)) > window_s:
        raise ApiError(401, f"Slack request timestamp outside the replay window ({window_s}s)")
    if not hmac.compare_digest(slack_signature(secret, timestamp, body), signature):
        raise ApiError(401, "Slack signature does not match")


def feishu_signature(*, timestamp: str, nonce: str, encrypt_key: str, body: bytes) -> str:
    return hashlib.sha256(timestamp.encode() + nonce.encode() + encrypt_key.encode() + body).hexdigest()


def verify_feishu(
    *,
    encrypt_key: str,
    timestamp: str,
    nonce: str,
    signature: str,
    body: bytes,
    window_s: int,
    now_s: int | None = None,
) -> None:
    """X-Lark-Signature = sha256(timestamp + nonce + encrypt key + body), timestamp (s) in the window."""
    if not _digits(timestamp) or not signature:
        raise ApiError(401, "Feishu X-Lark-Request-Timestamp / X-Lark-Signature missing")
    now = (_now_ms() // 1000) if now_s is None else now_s
    if abs(now - int(timestamp)) > window_s:
        raise ApiError(401, f"Feishu request timestamp outside the replay window ({window_s}s)")
    expected = feishu_signature(timestamp=timestamp, nonce=nonce, encrypt_key=encrypt_key, body=body)
    if not hmac.compare_digest(expected, signature):
        raise ApiError(401, "Feishu signature does not match")


def feishu_decrypt(encrypt_key: str, encrypted: str) -> dict[str, Any]:
    """AES-256-CBC with key sha256(encrypt key); the first 16 bytes are the IV; PKCS#7 padding."""
    key = hashlib.sha256(encrypt_key.encode()).digest()
    try:
        raw = base64.b64decode(encrypted)
        iv, data = raw[:16], raw[16:]
        dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        plain = dec.update(data) + dec.finalize()
        plain = plain[: -plain[-1]]
    except (ValueError, IndexError) as exc:
        raise ApiError(401, f"Feishu payload does not decrypt with the configured encrypt key ({exc})") from None
    out = loads(plain, what="the decrypted Feishu payload")
    if not isinstance(out, dict):
        raise ApiError(400, "Feishu payload is not an object")
    return out


def feishu_encrypt(encrypt_key: str, payload: dict[str, Any], iv: bytes) -> str:
    """The platform side of feishu_decrypt (tests and the local receiver use it)."""
    from cryptography.hazmat.primitives import padding

    key = hashlib.sha256(encrypt_key.encode()).digest()
    padder = padding.PKCS7(128).padder()
    data = padder.update(json.dumps(payload).encode()) + padder.finalize()
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return base64.b64encode(iv + enc.update(data) + enc.finalize()).decode()
