"""The HTTP request (or email) each platform expects for one message part; pure and signed."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from berth_schema.alert.channels import Channel

from .signing import (
    WEBHOOK_SIGNATURE_HEADER,
    WEBHOOK_TIMESTAMP_HEADER,
    dingtalk_signed_url,
    feishu_sign,
    webhook_signature,
)


@dataclass(frozen=True, slots=True)
class HttpRequest:
    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    encoded: bool = False  # the URL is percent-encoded already (a signed query): send it as is


@dataclass(frozen=True, slots=True)
class EmailMessage:
    subject: str
    text: str
    sender: str
    recipients: tuple[str, ...]


Outbound = HttpRequest | EmailMessage
JSON = {"Content-Type": "application/json; charset=utf-8"}


def _json(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def _secret(channel: Channel) -> str | None:
    return channel.secret.get_secret_value() if channel.secret else None


def _dingtalk(channel: Channel, title: str, text: str, now_ms: int) -> HttpRequest:
    m = channel.mentions
    at = {"atMobiles": m.mobiles, "atUserIds": m.user_ids, "isAtAll": m.all}
    # In markdown the @ must also appear in the text for DingTalk to notify the person.
    tags = " ".join([*(f"@{x}" for x in m.mobiles), *(f"@{x}" for x in m.user_ids)])
    if channel.format == "markdown":
        body: dict[str, Any] = {
            "msgtype": "markdown",
            "markdown": {"title": title[:64] or "alert", "text": f"{text}\n\n{tags}" if tags else text},
            "at": at,
        }
    else:
        body = {"msgtype": "text", "text": {"content": text}, "at": at}
    secret = _secret(channel)
    url = dingtalk_signed_url(channel.url, secret, now_ms) if secret else channel.url
    return HttpRequest(url, _json(body), dict(JSON))


def _wecom(channel: Channel, text: str) -> HttpRequest:
    m = channel.mentions
    users = [*m.user_ids, *(["@all"] if m.all else [])]
    if channel.format == "markdown":
        # WeCom markdown has no mention lists; <@userid> in the content mentions a user.
        tags = " ".join(f"<@{u}>" for u in m.user_ids)
        body: dict[str, Any] = {"msgtype": "markdown", "markdown": {"content": f"{text}\n{tags}" if tags else text}}
    else:
        body = {
            "msgtype": "text",
            "text": {"content": text, "mentioned_list": users, "mentioned_mobile_list": m.mobiles},
        }
    return HttpRequest(channel.url, _json(body), dict(JSON))


def _feishu(channel: Channel, text: str, now_s: int) -> HttpRequest:
    m = channel.mentions
    tags = [f'<at user_id="{u}"></at>' for u in m.user_ids] + (['<at user_id="all">所有人</at>'] if m.all else [])
    content = f"{text}\n{' '.join(tags)}" if tags else text
    body: dict[str, Any] = {"msg_type": "text", "content": {"text": content}}
    secret = _secret(channel)
    if secret:
        body = {"timestamp": str(now_s), "sign": feishu_sign(secret, now_s), **body}
    return HttpRequest(channel.url, _json(body), dict(JSON))


def _webhook(channel: Channel, title: str, text: str, now_s: int, extra: dict[str, Any]) -> HttpRequest:
    body = _json({"channel": channel.name, "title": title, "text": text, **extra})
    headers = dict(JSON)
    secret = _secret(channel)
    if secret:
        headers[WEBHOOK_TIMESTAMP_HEADER] = str(now_s)
        headers[WEBHOOK_SIGNATURE_HEADER] = webhook_signature(secret, now_s, body)
    return HttpRequest(channel.url, body, headers)


def build(channel: Channel, title: str, text: str, *, now_s: float, extra: dict[str, Any] | None = None) -> Outbound:
    """One message part as the platform wants it, signed at ``now_s`` (epoch seconds)."""
    if channel.kind == "dingtalk":
        return _dingtalk(channel, title, text, int(now_s * 1000))
    if channel.kind == "wecom":
        return _wecom(channel, text)
    if channel.kind == "feishu":
        return _feishu(channel, text, int(now_s))
    if channel.kind == "slack":
        return HttpRequest(channel.url, _json({"text": text}), dict(JSON))
    if channel.kind == "webhook":
        return _webhook(channel, title, text, int(now_s), extra or {})
    return EmailMessage(title, text, channel.email_from, tuple(channel.email_to))


def accepted(channel: Channel, status: int, body: bytes) -> tuple[bool, bool, str]:
    """Interpret a platform's answer: (ok, permanent failure, detail).

    DingTalk and WeCom answer HTTP 200 with ``errcode``; Feishu with ``code``. A rate-limit
    answer (DingTalk 130101, WeCom 45009, Feishu 11232) or a 5xx is worth retrying; a bad
    signature or key is not.
    """
    if status >= 500 or status == 429:
        return False, False, f"HTTP {status}"
    if status >= 400:
        return False, True, f"HTTP {status}: {body[:200].decode(errors='replace')}"
    if channel.kind in ("dingtalk", "wecom", "feishu"):
        try:
            doc = json.loads(body or b"{}")
        except ValueError:
            return False, False, "answer is not JSON"
        code = doc.get("errcode", doc.get("code", doc.get("StatusCode", 0)))
        if code in (0, None):
            return True, False, "ok"
        msg = doc.get("errmsg", doc.get("msg", ""))
        retryable = code in (130101, 45009, 11232, -1)
        return False, not retryable, f"{channel.kind} error {code}: {msg}"
    return True, False, "ok"
