"""/hooks/chatops/{dingtalk|feishu|slack}: verified by signature, then the chat command runs as an
API call with the rights of the Berth user bound to the chat user (through the gateway itself,
so RBAC, tenant isolation and audit apply unchanged)."""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any, TypeVar
from urllib.parse import parse_qs

from aiohttp import ClientSession, ClientTimeout, web
from berth_schema.hooks import HookPayloadInvalid
from berth_schema.hooks.chatops import DingTalkMessage, FeishuCallback, FeishuEncrypted, SlackCommand
from berth_schema.hooks.chatops import parse_chat as _parse_chat
from pydantic import BaseModel

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


def _loads(raw: bytes) -> Any:
    try:
        return json.loads(raw or b"{}")
    except ValueError:
        raise ApiError(400, "the body is not JSON", errors=[{"field": "body", "message": "invalid JSON"}]) from None


async def _json(request: web.Request) -> Any:
    return _loads(await request.read())


C = TypeVar("C", bound=BaseModel)


def parse_chat(model: type[C], body: Any) -> C:
    """The platform's payload (berth_schema.hooks.chatops), or a 400 naming the bad field."""
    try:
        return _parse_chat(model, body)
    except HookPayloadInvalid as exc:
        raise ApiError(
            400, f"invalid chat payload: {exc}", errors=[{"field": exc.field, "message": exc.message}]
        ) from None


async def dingtalk(request: web.Request) -> web.Response:
    g = gw(request)
    secret = _secret(g.settings.dingtalk_app_secret, "DingTalk")
    verify_dingtalk(
        app_secret=secret,
        timestamp=request.headers.get("timestamp", ""),
        sign=request.headers.get("sign", ""),
        window_s=3600,
    )
    msg = parse_chat(DingTalkMessage, await _json(request))
    reply = await _run(request, "dingtalk", msg.chat_user, msg.text.content)
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
    cmd = parse_chat(SlackCommand, form)
    reply = await _run(request, "slack", cmd.user_id, cmd.text)
    return web.json_response({"response_type": "ephemeral", "text": reply})


async def feishu(request: web.Request) -> web.Response:
    g = gw(request)
    token = _secret(g.settings.feishu_verification_token, "Feishu")
    raw = await request.read()
    body = _loads(raw)
    if g.settings.feishu_encrypt_key is not None:
        key = g.settings.feishu_encrypt_key.get_secret_value()
        ts, nonce = request.headers.get("X-Lark-Request-Timestamp", ""), request.headers.get("X-Lark-Request-Nonce", "")
        sig = request.headers.get("X-Lark-Signature", "")
        if not isinstance(body, dict) or "encrypt" not in body:
            raise ApiError(401, "Feishu payload is not encrypted though an encrypt key is configured")
        if sig and sig != feishu_signature(timestamp=ts, nonce=nonce, encrypt_key=key, body=raw):
            raise ApiError(401, "Feishu signature does not match")
        sealed = parse_chat(FeishuEncrypted, body)
        body = feishu_decrypt(key, sealed.encrypt)
    callback = parse_chat(FeishuCallback, body)
    if not hmac.compare_digest(callback.verification_token.encode(), token.encode()):
        raise ApiError(401, "Feishu verification token does not match")
    if callback.type == "url_verification":
        return web.json_response({"challenge": callback.challenge})
    reply = await _run(request, "feishu", callback.chat_user, callback.event.message.text)
    return web.json_response({"msg_type": "text", "content": {"text": reply}})


def add_chatops_routes(app: web.Application) -> None:
    app.router.add_post("/hooks/chatops/dingtalk", dingtalk)
    app.router.add_post("/hooks/chatops/feishu", feishu)
    app.router.add_post("/hooks/chatops/slack", slack)
