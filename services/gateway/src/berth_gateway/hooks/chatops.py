"""/hooks/chatops/{dingtalk|feishu|slack}: verified by signature, then the chat command runs as an
API call with the rights of the Berth user bound to the chat user (through the gateway itself,
so RBAC, tenant isolation and audit apply unchanged)."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qs

from aiohttp import ClientSession, ClientTimeout, web

from ..context import REQUEST_ID, gw
from ..local import CHAT_BINDINGS
from ..problems import ApiError
from .commands import ApiCall, ChatCommandError, parse
from .signatures import feishu_decrypt, feishu_signature, verify_dingtalk, verify_slack

log = logging.getLogger(__name__)


def _secret(value: Any, platform: str) -> str:
    if value is None:
        raise ApiError(503, f"{platform} chatops is not configured on this gateway")
    return str(value.get_secret_value())


async def _run(request: web.Request, platform: str, chat_user: str, text: str) -> str:
    """Execute the chat command as the bound user; the reply text for the chat."""
    g = gw(request)
    rec = await g.store.collection(CHAT_BINDINGS).get(f"{platform}|{chat_user}")
    if rec is None:
        return f"{platform} user {chat_user} is not bound to a Berth user; ask an admin (POST /api/v1/chat-bindings)"
    user = rec.data["user"]
    try:
        call = parse(text)
    except ChatCommandError as exc:
        return str(exc)
    issued = await g.tokens.issue(user=user, name=f"chatops-{platform}", days=1)
    try:
        status, body = await _loopback(request, call, issued.token)
    finally:
        await g.tokens.revoke(issued.id)
    if status >= 400:
        detail = body.get("detail", "") if isinstance(body, dict) else body
        return f"{call.summary} failed ({status}): {detail}"
    if call.method == "GET" and isinstance(body, dict):
        return (
            f"{call.summary}: {body.get('phase', body.get('status', 'unknown'))} (version {body.get('version', '?')})"
        )
    op = body.get("operation", {}) if isinstance(body, dict) else {}
    return f"{call.summary} (operation {op.get('id', '-')}) by {user}"


async def _loopback(request: web.Request, call: ApiCall, token: str) -> tuple[int, Any]:
    sock = request.transport.get_extra_info("sockname") if request.transport else None
    if not sock:
        raise ApiError(500, "cannot find the gateway's own address")
    host, port = sock[0], sock[1]
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}{call.path}"
    headers = {"Authorization": f"Bearer {token}", "X-Request-Id": request[REQUEST_ID]}
    if call.tenant:
        headers["X-Berth-Tenant"] = call.tenant
    async with (
        ClientSession(timeout=ClientTimeout(total=15)) as http,
        http.request(call.method, url, json=call.body, headers=headers) as resp,
    ):
        try:
            return resp.status, await resp.json(content_type=None)
        except ValueError:
            return resp.status, await resp.text()


async def dingtalk(request: web.Request) -> web.Response:
    g = gw(request)
    secret = _secret(g.settings.dingtalk_app_secret, "DingTalk")
    verify_dingtalk(
        app_secret=secret,
        timestamp=request.headers.get("timestamp", ""),
        sign=request.headers.get("sign", ""),
        window_s=3600,
    )
    body = json.loads(await request.read() or b"{}")
    text = str(body.get("text", {}).get("content", ""))
    chat_user = str(body.get("senderStaffId") or body.get("senderId") or "")
    reply = await _run(request, "dingtalk", chat_user, text)
    return web.json_response({"msgtype": "text", "text": {"content": reply}})


async def slack(request: web.Request) -> web.Response:
    g = gw(request)
    secret = _secret(g.settings.slack_signing_secret, "Slack")
    raw = await request.read()
    verify_slack(
        secret=secret,
        timestamp=request.headers.get("X-Slack-Request-Timestamp", ""),
        signature=request.headers.get("X-Slack-Signature", ""),
        body=raw,
        window_s=g.settings.chat_replay_window,
    )
    form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
    reply = await _run(request, "slack", form.get("user_id", ""), form.get("text", ""))
    return web.json_response({"response_type": "ephemeral", "text": reply})


async def feishu(request: web.Request) -> web.Response:
    g = gw(request)
    token = _secret(g.settings.feishu_verification_token, "Feishu")
    raw = await request.read()
    body = json.loads(raw or b"{}")
    if g.settings.feishu_encrypt_key is not None:
        key = g.settings.feishu_encrypt_key.get_secret_value()
        ts, nonce = request.headers.get("X-Lark-Request-Timestamp", ""), request.headers.get("X-Lark-Request-Nonce", "")
        sig = request.headers.get("X-Lark-Signature", "")
        if "encrypt" not in body:
            raise ApiError(401, "Feishu payload is not encrypted though an encrypt key is configured")
        if sig and sig != feishu_signature(timestamp=ts, nonce=nonce, encrypt_key=key, body=raw):
            raise ApiError(401, "Feishu signature does not match")
        body = feishu_decrypt(key, str(body["encrypt"]))
    given = body.get("token") or body.get("header", {}).get("token", "")
    import hmac

    if not hmac.compare_digest(str(given).encode(), token.encode()):
        raise ApiError(401, "Feishu verification token does not match")
    if body.get("type") == "url_verification":
        return web.json_response({"challenge": body.get("challenge", "")})
    event = body.get("event", {})
    sender = event.get("sender", {}).get("sender_id", {})
    chat_user = str(sender.get("user_id") or sender.get("open_id") or "")
    try:
        text = json.loads(event.get("message", {}).get("content", "{}")).get("text", "")
    except ValueError:
        text = ""
    reply = await _run(request, "feishu", chat_user, str(text))
    return web.json_response({"msg_type": "text", "content": {"text": reply}})


def add_chatops_routes(app: web.Application) -> None:
    app.router.add_post("/hooks/chatops/dingtalk", dingtalk)
    app.router.add_post("/hooks/chatops/feishu", feishu)
    app.router.add_post("/hooks/chatops/slack", slack)
