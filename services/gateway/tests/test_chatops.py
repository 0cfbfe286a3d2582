"""Chatops hooks: signatures checked as the platforms sign, commands run with the bound user's rights.

The chat platforms themselves are SaaS: the test signs requests exactly as DingTalk, Slack and
Feishu document it."""

from __future__ import annotations

import json
import os
import time
from typing import Any
from urllib.parse import urlencode

from berth_gateway.hooks.signatures import dingtalk_sign, feishu_encrypt, feishu_signature, slack_signature
from gwtest import DINGTALK_SECRET, FEISHU_KEY, FEISHU_TOKEN, SLACK_SECRET, Stack


async def _bind(stack: Stack, platform: str, chat_user: str, user: str) -> None:
    status, body = await stack.call(
        "POST", "/api/v1/chat-bindings", json={"platform": platform, "chat_user": chat_user, "user": user}
    )
    assert status == 201, body


_last_ms = [0]


def fresh_ms() -> str:
    """A DingTalk timestamp (ms) no earlier test request used: a signature is good for one use."""
    _last_ms[0] = max(int(time.time() * 1000), _last_ms[0] + 1)
    return str(_last_ms[0])


async def _dingtalk(stack: Stack, text: str, sender: str, *, secret: str = DINGTALK_SECRET) -> tuple[int, dict]:
    ts = fresh_ms()
    headers = {"timestamp": ts, "sign": dingtalk_sign(secret, ts)}
    body = {"msgtype": "text", "text": {"content": text}, "senderStaffId": sender, "senderNick": "x"}
    async with stack.http.post(stack.url + "/hooks/chatops/dingtalk", json=body, headers=headers) as resp:
        return resp.status, await resp.json(content_type=None)


async def test_dingtalk_cluster_status_as_the_bound_user(stack: Stack) -> None:
    await stack.user_token("chat-carl", tenant="acme", role="viewer")
    await _bind(stack, "dingtalk", "staff-1", "chat-carl")
    status, body = await _dingtalk(stack, "@Berth cluster status acme-prod", "staff-1")
    assert status == 200, body
    assert body["text"]["content"].startswith("cluster acme-prod: Running")
    # another tenant's cluster is invisible to that user
    status, body = await _dingtalk(stack, "cluster status globex-prod", "staff-1")
    assert "failed (404)" in body["text"]["content"]
    # a viewer cannot switch DR: the API call runs with the user's rights
    status, body = await _dingtalk(stack, "dr switch g1", "staff-1")
    assert "failed (403)" in body["text"]["content"] and "tenant-admin" in body["text"]["content"]
    status, body = await _dingtalk(stack, "cluster status acme-prod", "staff-unbound")
    assert "not bound" in body["text"]["content"]
    # the chat user's calls are audited under the Berth user
    status, audit = await stack.call("GET", "/api/v1/audit?user=chat-carl")
    assert any(e["path"] == "/api/v1/dr-groups/g1:switchover" and e["status"] == 403 for e in audit["items"])


async def test_dingtalk_rejects_a_bad_signature(stack: Stack) -> None:
    status, body = await _dingtalk(stack, "cluster status acme-prod", "staff-1", secret="wrong")
    assert status == 401 and "signature" in body["detail"]


async def test_slack_signature_and_replay_window(stack: Stack) -> None:
    await stack.user_token("chat-sue", tenant="acme", role="tenant-admin")
    await _bind(stack, "slack", "U123", "chat-sue")
    raw = urlencode({"command": "/berth", "text": "cluster status acme-prod", "user_id": "U123"}).encode()

    async def post(ts: str, sig: str) -> tuple[int, dict]:
        headers = {
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": sig,
            "Content-Type": "application/x-www-form-urlencoded",
        }
        async with stack.http.post(stack.url + "/hooks/chatops/slack", data=raw, headers=headers) as resp:
            return resp.status, await resp.json(content_type=None)

    now = str(int(time.time()))
    status, body = await post(now, slack_signature(SLACK_SECRET, now, raw))
    assert status == 200 and "Running" in body["text"]
    old = str(int(time.time()) - 3600)
    status, body = await post(old, slack_signature(SLACK_SECRET, old, raw))
    assert status == 401 and "replay window" in body["detail"]
    status, body = await post(now, slack_signature("other", now, raw))
    assert status == 401


async def feishu_post(
    stack: Stack, payload: dict[str, Any], *, signed: bool = True, ts: str | None = None, key: str = FEISHU_KEY
) -> tuple[int, Any]:
    """Encrypted and signed as Feishu does once the app has an Encrypt Key."""
    raw = json.dumps({"encrypt": feishu_encrypt(key, payload, os.urandom(16))}).encode()
    ts = ts or str(int(time.time()))
    nonce = os.urandom(6).hex()
    headers = {"Content-Type": "application/json"}
    if signed:
        headers |= {
            "X-Lark-Request-Timestamp": ts,
            "X-Lark-Request-Nonce": nonce,
            "X-Lark-Signature": feishu_signature(timestamp=ts, nonce=nonce, encrypt_key=key, body=raw),
        }
    async with stack.http.post(stack.url + "/hooks/chatops/feishu", data=raw, headers=headers) as r:
        return r.status, await r.json(content_type=None)


async def test_feishu_url_verification_and_token(stack: Stack) -> None:
    status, body = await feishu_post(stack, {"type": "url_verification", "challenge": "c-1", "token": FEISHU_TOKEN})
    assert status == 200 and body["challenge"] == "c-1"
    # Feishu sends the URL check unsigned; the token inside the encrypted body is checked
    status, body = await feishu_post(
        stack, {"type": "url_verification", "challenge": "c-1", "token": FEISHU_TOKEN}, signed=False
    )
    assert status == 200 and body["challenge"] == "c-1"
    status, _ = await feishu_post(stack, {"type": "url_verification", "challenge": "c-1", "token": "nope"})
    assert status == 401
    await stack.user_token("chat-fay", tenant="acme", role="viewer")
    await _bind(stack, "feishu", "ou_1", "chat-fay")
    event: dict[str, Any] = {
        "schema": "2.0",
        "header": {"token": FEISHU_TOKEN, "event_type": "im.message.receive_v1"},
        "event": {
            "sender": {"sender_id": {"open_id": "ou_1"}},
            "message": {"content": json.dumps({"text": "@_user_1 cluster status acme-prod"})},
        },
    }
    status, body = await feishu_post(stack, event)
    assert status == 200 and "Running" in body["content"]["text"], body


def test_feishu_encryption_round_trip() -> None:
    from berth_gateway.hooks.signatures import feishu_decrypt

    enc = feishu_encrypt("key-1", {"token": "t"}, os.urandom(16))
    assert feishu_decrypt("key-1", enc) == {"token": "t"}
