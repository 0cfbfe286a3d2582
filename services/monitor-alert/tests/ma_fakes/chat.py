"""One aiohttp server hosting fake DingTalk, WeCom, Feishu and Slack robots.

Checks made, as the real endpoints make them:
- DingTalk ``/robot/send?access_token=T&timestamp=ms&sign=S``: known token, timestamp within
  one hour, sign = Base64(HMAC-SHA256(secret, ts+"\\n"+secret)) -> errcode 310000 otherwise;
  JSON with a known ``msgtype`` and its content; body <= 20,000 bytes; more than 20 messages
  a minute per robot -> errcode 130101.
- WeCom ``/cgi-bin/webhook/send?key=K``: known key (93000), markdown content <= 4096 bytes
  and text <= 2048 bytes (40058).
- Feishu ``/open-apis/bot/v2/hook/T``: sign = Base64(HMAC-SHA256(key=ts+"\\n"+secret, "")),
  timestamp within an hour -> code 19021 otherwise; body <= 30 KB.
- Slack ``/services/T``: JSON with ``text`` (400 invalid_payload otherwise); text <= 40,000 chars.
- ``/fail/<n>``: answers 500 and counts the attempts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from berth_monitor_alert.domain.signing import verify_webhook_signature


@dataclass
class Received:
    platform: str
    robot: str
    body: dict[str, Any]
    raw: bytes
    query: dict[str, str]
    headers: dict[str, str]


@dataclass
class ChatFakes:
    dingtalk: dict[str, str] = field(default_factory=dict)  # access_token -> secret
    wecom: set[str] = field(default_factory=set)  # keys
    feishu: dict[str, str] = field(default_factory=dict)  # hook token -> secret
    webhook_secret: str | None = None
    clock: Callable[[], float] = time.time
    received: list[Received] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _sent_at: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    runner: web.AppRunner | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def of(self, platform: str) -> list[Received]:
        return [r for r in self.received if r.platform == platform]

    def _reject(self, platform: str, why: str) -> None:
        self.rejected.append((platform, why))

    async def _dingtalk(self, request: web.Request) -> web.Response:
        token = request.query.get("access_token", "")
        if token not in self.dingtalk:
            self._reject("dingtalk", "token")
            return web.json_response({"errcode": 300001, "errmsg": "token is not exist"})
        secret = self.dingtalk[token]
        ts, sign = request.query.get("timestamp", ""), request.query.get("sign", "")
        if not ts.isdigit() or abs(self.clock() * 1000 - int(ts)) > 3_600_000:
            self._reject("dingtalk", "timestamp")
            return web.json_response({"errcode": 310000, "errmsg": "invalid timestamp"})
        expected = base64.b64encode(hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(expected.decode(), sign):
            self._reject("dingtalk", "sign")
            return web.json_response({"errcode": 310000, "errmsg": "sign not match"})
        raw = await request.read()
        if len(raw) > 20_000:
            self._reject("dingtalk", "size")
            return web.json_response({"errcode": 460101, "errmsg": "message too long"})
        try:
            body = json.loads(raw)
            kind = body["msgtype"]
            ok = (kind == "text" and body["text"]["content"]) or (
                kind == "markdown" and body["markdown"]["title"] and body["markdown"]["text"]
            )
        except (ValueError, KeyError, TypeError):
            ok = False
        if not ok:
            self._reject("dingtalk", "shape")
            return web.json_response({"errcode": 40035, "errmsg": "缺少参数 json"})
        window = self._sent_at[token]
        now = self.clock()
        while window and now - window[0] >= 60:
            window.popleft()
        if len(window) >= 20:
            self._reject("dingtalk", "rate")
            return web.json_response({"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"})
        window.append(now)
        self.received.append(Received("dingtalk", token, body, raw, dict(request.query), dict(request.headers)))
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _wecom(self, request: web.Request) -> web.Response:
        key = request.query.get("key", "")
        if key not in self.wecom:
            self._reject("wecom", "key")
            return web.json_response({"errcode": 93000, "errmsg": "invalid webhook url"})
        raw = await request.read()
        body = json.loads(raw)
        kind = body.get("msgtype")
        content = (body.get(kind) or {}).get("content", "") if kind in ("text", "markdown") else ""
        limit = 4096 if kind == "markdown" else 2048
        if not content or len(content.encode()) > limit:
            self._reject("wecom", "content")
            return web.json_response({"errcode": 40058, "errmsg": f"content exceed max length {limit}"})
        self.received.append(Received("wecom", key, body, raw, dict(request.query), dict(request.headers)))
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _feishu(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        raw = await request.read()
        if len(raw) > 30 * 1024:
            self._reject("feishu", "size")
            return web.json_response({"code": 9499, "msg": "request body too large"})
        body = json.loads(raw)
        secret = self.feishu.get(token)
        if secret is None:
            self._reject("feishu", "token")
            return web.json_response({"code": 19001, "msg": "param invalid: incoming webhook access token invalid"})
        ts = str(body.get("timestamp", ""))
        expected = base64.b64encode(hmac.new(f"{ts}\n{secret}".encode(), b"", hashlib.sha256).digest()).decode()
        fresh = ts.isdigit() and abs(self.clock() - int(ts)) <= 3600
        if not fresh or not hmac.compare_digest(expected, str(body.get("sign", ""))):
            self._reject("feishu", "sign")
            return web.json_response(
                {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"}
            )
        if body.get("msg_type") != "text" or not body.get("content", {}).get("text"):
            self._reject("feishu", "shape")
            return web.json_response({"code": 9499, "msg": "Bad Request"})
        self.received.append(Received("feishu", token, body, raw, dict(request.query), dict(request.headers)))
        return web.json_response({"code": 0, "msg": "success", "data": {}})

    async def _slack(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body = json.loads(raw)
            text = body["text"]
        except (ValueError, KeyError):
            return web.Response(status=400, text="invalid_payload")
        if len(text) > 40_000:
            return web.Response(status=400, text="msg_too_long")
        self.received.append(Received("slack", request.match_info["token"], body, raw, {}, dict(request.headers)))
        return web.Response(text="ok")

    async def _webhook(self, request: web.Request) -> web.Response:
        raw = await request.read()
        if self.webhook_secret is not None:
            ts = request.headers.get("X-Berth-Timestamp", "0")
            sig = request.headers.get("X-Berth-Signature", "")
            if not ts.isdigit() or not verify_webhook_signature(self.webhook_secret, int(ts), raw, sig):
                self._reject("webhook", "signature")
                return web.Response(status=401, text="bad signature")
        self.received.append(Received("webhook", "", json.loads(raw), raw, {}, dict(request.headers)))
        return web.Response(status=204)

    async def _fail(self, request: web.Request) -> web.Response:
        self.failures[request.match_info["name"]] += 1
        return web.Response(status=500, text="internal error")

    async def start(self) -> ChatFakes:
        app = web.Application()
        app.router.add_post("/robot/send", self._dingtalk)
        app.router.add_post("/cgi-bin/webhook/send", self._wecom)
        app.router.add_post("/open-apis/bot/v2/hook/{token}", self._feishu)
        app.router.add_post("/services/{token}", self._slack)
        app.router.add_post("/webhook", self._webhook)
        app.router.add_post("/fail/{name}", self._fail)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
