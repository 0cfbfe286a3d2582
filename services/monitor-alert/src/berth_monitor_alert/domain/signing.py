"""Request signing as each platform verifies it.

DingTalk custom robot, security setting 加签 (open.dingtalk.com "自定义机器人安全设置"):
the string ``timestamp + "\\n" + secret`` is signed with HMAC-SHA256 keyed by the secret,
Base64-encoded, then URL-encoded, and sent as the ``timestamp`` (epoch milliseconds) and
``sign`` query parameters. The endpoint rejects a timestamp more than one hour from its clock
and a wrong sign (errcode 310000).

Feishu custom bot, signature verification (open.feishu.cn "自定义机器人使用指南 / 签名校验"):
HMAC-SHA256 keyed by ``timestamp + "\\n" + secret`` over an EMPTY message, Base64-encoded,
sent in the JSON body as ``timestamp`` (epoch seconds, a string) and ``sign``. A wrong sign
or a timestamp more than an hour off returns code 19021.

Generic webhooks get ``X-Berth-Timestamp`` and ``X-Berth-Signature: sha256=<hex>`` where the
hex is HMAC-SHA256(secret, timestamp + "." + body).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse

WEBHOOK_SIGNATURE_HEADER = "X-Berth-Signature"
WEBHOOK_TIMESTAMP_HEADER = "X-Berth-Timestamp"


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """The Base64 signature (not yet URL-encoded)."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    query = urllib.parse.urlencode({"timestamp": str(timestamp_ms), "sign": dingtalk_sign(secret, timestamp_ms)})
    return f"{url}{'&' if '?' in url else '?'}{query}"


def feishu_sign(secret: str, timestamp_s: int) -> str:
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def webhook_signature(secret: str, timestamp_s: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp_s}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify_webhook_signature(secret: str, timestamp_s: int, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(webhook_signature(secret, timestamp_s, body), signature)
