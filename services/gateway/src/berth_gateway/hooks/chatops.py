"""/hooks/chatops/{dingtalk|feishu|slack}: verified by signature, then the chat command runs as an
API call with the rights of the Berth user bound to the chat user (through the gateway itself,
so RBAC, tenant isolation and audit apply unchanged)."""

from __future__ import annotations

import hmac
import logging
from typing import Any, TypeVar
from urllib.parse import parse_qs

from aiohttp import ClientSession, ClientTimeout, web
from berth_schema.hooks import HookPayloadInvalid
from berth_schema.hooks.chatops import DingTalkMessage, FeishuCallback, FeishuEncrypted, SlackCommand
from berth_schema.hooks.chatops import parse_chat as _parse_chat
from pydantic import BaseModel

from ..context import ACTION, HOOK_CALLER, REQUEST_ID, TENANT, gw, refusal
from ..jsonbody import loads
from ..local import CHAT_BINDINGS
from ..problems import ApiError
from .commands import ApiCall, ChatCommandError, parse
from .signatures import feishu_decrypt, verify_dingtalk, verify_feishu, verify_slack

log = logging.getLogger(__name__)


SETTINGS = {
    "dingtalk": "BERTH_GATEWAY_DINGTALK_APP_SECRET",
    "feishu": "BERTH_GATEWAY_FEISHU_VERIFICATION_TOKEN",
    "slack": "BERTH_GATEWAY_SLACK_SIGNING_SECRET",
}


def _secret(value: Any, platform: str) -> str:
    if value is None:
        raise ApiError(
            503,
            f"{platform} chatops is closed on this gateway: no secret is configured; "
            f"the operator sets {SETTINGS[platform]} to enable it",
        )
    return str(value.get_secret_value())


async def _run(request: web.Request, platform: str, chat_user: str, text: str) -> str:
    """Execute the chat command as the bound user; the reply text for the chat."""
    g = gw(request)
    rec = await g.store.collection(CHAT_BINDINGS).get(f"{platform}|{chat_user}")
    if rec is None:
        return f"{platform} user {chat_user} is not bound to a Berth user; ask an admin (POST /api/v1/chat-bindings)"
    user = rec.data["user"]
    request[HOOK_CALLER] = f"{platform}:{chat_user} as {user}"
    try:
        call = parse(text)
    except ChatCommandError as exc:
        return str(exc)
    request[ACTION] = f"chatops.{call.method} {call.path}"
    if call.tenant:
        request[TENANT] = call.tenant
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


def _form(raw: bytes) -> dict[str, str]:
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        raise ApiError(400, "the body is not UTF-8", errors=[{"field": "body", "message": "not UTF-8"}]) from None
    return {k: v[0] for k, v in parse_qs(text).items()}


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
    """DingTalk signs only the timestamp: the pair is valid for the replay window and used once,
    so a body can only ride on a fresh signature the platform itself delivered with it."""
    g = gw(request)
    window = g.settings.chat_replay_window
    timestamp, sign = request.headers.get("timestamp", ""), request.headers.get("sign", "")
    try:
        secret = _secret(g.settings.dingtalk_app_secret, "dingtalk")
        verify_dingtalk(app_secret=secret, timestamp=timestamp, sign=sign, window_s=window)
        await g.replay.use_once(
            platform="dingtalk", timestamp_s=int(timestamp) // 1000, signature=sign, window_s=window
        )
    except ApiError as err:
        raise refusal(request, err) from None
    request[HOOK_CALLER] = "dingtalk"
    msg = parse_chat(DingTalkMessage, loads(await request.read() or b"{}"))
    reply = await _run(request, "dingtalk", msg.chat_user, msg.text.content)
    return web.json_response({"msgtype": "text", "text": {"content": reply}})


async def slack(request: web.Request) -> web.Response:
    """Slack signs the timestamp and the whole body (v0): the user id is the platform's word."""
    g = gw(request)
    window = g.settings.chat_replay_window
    raw = await request.read()
    timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
    signature = request.headers.get("X-Slack-Signature", "")
    try:
        secret = _secret(g.settings.slack_signing_secret, "slack")
        verify_slack(secret=secret, timestamp=timestamp, signature=signature, body=raw, window_s=window)
        await g.replay.use_once(platform="slack", timestamp_s=int(timestamp), signature=signature, window_s=window)
    except ApiError as err:
        raise refusal(request, err) from None
    request[HOOK_CALLER] = "slack"
    cmd = parse_chat(SlackCommand, _form(raw))
    reply = await _run(request, "slack", cmd.user_id, cmd.text)
    return web.json_response({"response_type": "ephemeral", "text": reply})


async def feishu(request: web.Request) -> web.Response:
    """Feishu signs the body only when an encrypt key is configured (X-Lark-Signature over
    timestamp, nonce, key and body): commands need it; the URL check needs the token alone."""
    try:
        callback = await _feishu_callback(request)
    except ApiError as err:
        raise (refusal(request, err) if err.status in (401, 503) else err) from None
    request[HOOK_CALLER] = "feishu"
    if callback.type == "url_verification":
        return web.json_response({"challenge": callback.challenge})
    reply = await _run(request, "feishu", callback.chat_user, callback.event.message.text)
    return web.json_response({"msg_type": "text", "content": {"text": reply}})


async def _feishu_callback(request: web.Request) -> FeishuCallback:
    """The verified callback; for a command also a signature used for the first time."""
    g = gw(request)
    token = _secret(g.settings.feishu_verification_token, "feishu")
    window = g.settings.chat_replay_window
    raw = await request.read()
    key = g.settings.feishu_encrypt_key.get_secret_value() if g.settings.feishu_encrypt_key is not None else ""
    ts = request.headers.get("X-Lark-Request-Timestamp", "")
    signature = request.headers.get("X-Lark-Signature", "")
    if key and signature:  # the signature is checked on the raw bytes, before anything is parsed
        verify_feishu(
            encrypt_key=key,
            timestamp=ts,
            nonce=request.headers.get("X-Lark-Request-Nonce", ""),
            signature=signature,
            body=raw,
            window_s=window,
        )
    body = loads(raw or b"{}")
    if key:
        if not isinstance(body, dict) or "encrypt" not in body:
            raise ApiError(401, "Feishu payload is not encrypted though an encrypt key is configured")
        body = feishu_decrypt(key, parse_chat(FeishuEncrypted, body).encrypt)
    callback = parse_chat(FeishuCallback, body)
    if not hmac.compare_digest(callback.verification_token.encode(), token.encode()):
        raise ApiError(401, "Feishu verification token does not match")
    if callback.type == "url_verification":
        return callback
    if not key:
        raise ApiError(
            503,
            "Feishu commands are closed on this gateway: without an encrypt key Feishu does not sign the "
            "sender; the operator sets BERTH_GATEWAY_FEISHU_ENCRYPT_KEY (the app's Encrypt Key)",
        )
    if not signature:
        raise ApiError(401, "Feishu X-Lark-Request-Timestamp / X-Lark-Signature missing")
    await g.replay.use_once(platform="feishu", timestamp_s=int(ts), signature=signature, window_s=window)
    return callback


def add_chatops_routes(app: web.Application) -> None:
    app.router.add_post("/hooks/chatops/dingtalk", dingtalk)
    app.router.add_post("/hooks/chatops/feishu", feishu)
    app.router.add_post("/hooks/chatops/slack", slack)
