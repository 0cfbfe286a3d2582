"""Issue 17, chat commands replay-proof: the signature window is the replay setting (300 s), a
signature is used once, and the sender is what the platform signed (Slack, Feishu) or rides on
a single-use signature (DingTalk signs the timestamp alone)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestServer
from berth_common.store import MemoryStore
from berth_gateway.context import Gateway
from berth_gateway.hooks.replay import ReplayBook
from berth_gateway.hooks.signatures import dingtalk_sign, feishu_encrypt, feishu_signature, slack_signature
from berth_gateway.http import build_app
from berth_gateway.problems import ApiError
from gwtest import DINGTALK_SECRET, FEISHU_KEY, FEISHU_TOKEN, SLACK_SECRET, Stack, settings
from test_chatops import fresh_ms


async def _post(stack: Stack, path: str, raw: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    async with stack.http.post(stack.url + path, data=raw, headers=headers) as resp:
        return resp.status, await resp.json(content_type=None)


def _dingtalk_body(text: str, sender: str) -> bytes:
    return json.dumps({"msgtype": "text", "text": {"content": text}, "senderStaffId": sender}).encode()


async def _bind(stack: Stack, platform: str, chat_user: str, user: str, role: str) -> None:
    await stack.user_token(user, tenant="acme", role=role)
    status, body = await stack.call(
        "POST", "/api/v1/chat-bindings", json={"platform": platform, "chat_user": chat_user, "user": user}
    )
    assert status == 201, body


async def test_a_dingtalk_signature_is_used_once(stack: Stack) -> None:
    await _bind(stack, "dingtalk", "staff-r1", "replay-ann", "viewer")
    await _bind(stack, "dingtalk", "staff-r2", "replay-ben", "tenant-admin")
    ts = fresh_ms()
    headers = {"timestamp": ts, "sign": dingtalk_sign(DINGTALK_SECRET, ts), "Content-Type": "application/json"}
    status, body = await _post(
        stack, "/hooks/chatops/dingtalk", _dingtalk_body("cluster status acme-prod", "staff-r1"), headers
    )
    assert status == 200 and "Running" in body["text"]["content"], body
    # the same header pair with another body (another sender, another command) is a replay
    forged = _dingtalk_body("dr switch shop -t acme", "staff-r2")
    status, body = await _post(stack, "/hooks/chatops/dingtalk", forged, headers)
    assert status == 401 and "already used" in body["detail"], body


async def test_the_dingtalk_window_is_the_replay_setting(stack: Stack) -> None:
    raw = _dingtalk_body("cluster status acme-prod", "staff-r1")
    for age_s, expected in ((30 * 60, 401), (10 * 60, 401), (60, 200)):
        ts = str(int(fresh_ms()) - age_s * 1000)
        headers = {"timestamp": ts, "sign": dingtalk_sign(DINGTALK_SECRET, ts), "Content-Type": "application/json"}
        status, body = await _post(stack, "/hooks/chatops/dingtalk", raw, headers)
        assert status == expected, (age_s, body)
        if status == 401:
            assert "replay window (300s)" in body["detail"]


async def test_a_slack_signature_is_used_once_and_covers_the_sender(stack: Stack) -> None:
    await _bind(stack, "slack", "U-r1", "replay-sam", "viewer")
    raw = urlencode({"command": "/berth", "text": "cluster status acme-prod", "user_id": "U-r1"}).encode()
    ts = str(int(time.time()))
    headers = {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": slack_signature(SLACK_SECRET, ts, raw),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    status, body = await _post(stack, "/hooks/chatops/slack", raw, headers)
    assert status == 200 and "Running" in body["text"], body
    status, body = await _post(stack, "/hooks/chatops/slack", raw, headers)
    assert status == 401 and "already used" in body["detail"]
    other = raw.replace(b"U-r1", b"U-r2")
    status, body = await _post(stack, "/hooks/chatops/slack", other, headers)
    assert status == 401 and "signature" in body["detail"]
    old = str(int(time.time()) - 301)
    stale = {**headers, "X-Slack-Request-Timestamp": old, "X-Slack-Signature": slack_signature(SLACK_SECRET, old, raw)}
    status, body = await _post(stack, "/hooks/chatops/slack", raw, stale)
    assert status == 401 and "replay window" in body["detail"]


def _feishu_event(open_id: str, text: str) -> dict[str, Any]:
    return {
        "schema": "2.0",
        "header": {"token": FEISHU_TOKEN, "event_type": "im.message.receive_v1"},
        "event": {"sender": {"sender_id": {"open_id": open_id}}, "message": {"content": json.dumps({"text": text})}},
    }


def _feishu_signed(payload: dict[str, Any], *, ts: str | None = None) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps({"encrypt": feishu_encrypt(FEISHU_KEY, payload, os.urandom(16))}).encode()
    ts = ts or str(int(time.time()))
    nonce = os.urandom(6).hex()
    return raw, {
        "Content-Type": "application/json",
        "X-Lark-Request-Timestamp": ts,
        "X-Lark-Request-Nonce": nonce,
        "X-Lark-Signature": feishu_signature(timestamp=ts, nonce=nonce, encrypt_key=FEISHU_KEY, body=raw),
    }


async def test_feishu_commands_are_signed_and_used_once(stack: Stack) -> None:
    await _bind(stack, "feishu", "ou_r1", "replay-fei", "viewer")
    raw, headers = _feishu_signed(_feishu_event("ou_r1", "cluster status acme-prod"))
    status, body = await _post(stack, "/hooks/chatops/feishu", raw, headers)
    assert status == 200 and "Running" in body["content"]["text"], body
    status, body = await _post(stack, "/hooks/chatops/feishu", raw, headers)
    assert status == 401 and "already used" in body["detail"]
    # the encrypted body without its signature runs nothing
    unsigned = {"Content-Type": "application/json"}
    raw2, _ = _feishu_signed(_feishu_event("ou_r1", "cluster status acme-prod"))
    status, body = await _post(stack, "/hooks/chatops/feishu", raw2, unsigned)
    assert status == 401 and "Signature" in body["detail"]
    raw3, stale = _feishu_signed(_feishu_event("ou_r1", "cluster status acme-prod"), ts=str(int(time.time()) - 301))
    status, body = await _post(stack, "/hooks/chatops/feishu", raw3, stale)
    assert status == 401 and "replay window" in body["detail"]
    # a signature is checked on the raw bytes before the body is parsed
    status, body = await _post(stack, "/hooks/chatops/feishu", b"{not json", headers)
    assert status == 401


@pytest.fixture
async def no_encrypt_key(stack: Stack) -> AsyncIterator[TestServer]:
    g = Gateway.build(
        backend=stack.gateway.backend,
        store=stack.gateway.store,
        registry=stack.gateway.registry,
        settings=settings(feishu_encrypt_key=None),
    )
    server = TestServer(build_app(g, track_operations=False), host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


async def test_feishu_without_an_encrypt_key_runs_no_command(stack: Stack, no_encrypt_key: TestServer) -> None:
    url = str(no_encrypt_key.make_url("/hooks/chatops/feishu"))
    async with stack.http.post(url, json={"type": "url_verification", "challenge": "c-9", "token": FEISHU_TOKEN}) as r:
        assert r.status == 200 and (await r.json())["challenge"] == "c-9"
    async with stack.http.post(url, json=_feishu_event("ou_r1", "cluster status acme-prod")) as r:
        body = await r.json()
        assert r.status == 503 and "BERTH_GATEWAY_FEISHU_ENCRYPT_KEY" in body["detail"], body


async def test_remembered_signatures_are_purged_after_the_window() -> None:
    book = ReplayBook(MemoryStore())
    now = int(time.time())
    await book.use_once(platform="slack", timestamp_s=now - 1000, signature="old", window_s=300)
    await book.use_once(platform="slack", timestamp_s=now, signature="new", window_s=300)
    with pytest.raises(ApiError):
        await book.use_once(platform="slack", timestamp_s=now, signature="new", window_s=300)
    assert await book.purge(platform="slack", window_s=300, now_s=now) == 1
    with pytest.raises(ApiError):  # still remembered: it is inside the window
        await book.use_once(platform="slack", timestamp_s=now, signature="new", window_s=300)
