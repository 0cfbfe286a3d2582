"""Shared helpers of the gateway tests (imported by conftest and the test modules)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientSession
from berth_gateway.context import Gateway
from berth_gateway.settings import GatewaySettings
from pydantic import SecretStr
from stubs import StubWorld

ADMIN_TOKEN = os.environ.setdefault("BERTH_TEST_ADMIN_TOKEN", "test-admin-" + os.urandom(8).hex())

DINGTALK_SECRET = "SEC-dingtalk-test"
SLACK_SECRET = "slack-signing-test"
FEISHU_TOKEN = "feishu-verify-test"
FEISHU_KEY = "feishu-encrypt-test"
HOOK_TOKEN = "hook-secret"
HOOK_AUTH = {"Authorization": f"Bearer {HOOK_TOKEN}"}


@dataclass
class Stack:
    url: str
    http: ClientSession
    gateway: Gateway
    world: StubWorld
    admin: dict[str, str]
    nats_url: str = ""

    async def call(self, method: str, path: str, *, token: str | None = None, **kw: Any) -> tuple[int, Any]:
        headers = dict(kw.pop("headers", {}) or {})
        headers.setdefault("Authorization", f"Bearer {token or ADMIN_TOKEN}")
        async with self.http.request(method, self.url + path, headers=headers, **kw) as resp:
            ctype = resp.headers.get("Content-Type", "")
            body = await resp.json(content_type=None) if "json" in ctype else await resp.text()
            return resp.status, body

    async def user_token(self, user: str, *, tenant: str, role: str, namespace: str = "") -> str:
        """Bind ``user`` to ``role`` in ``tenant`` and issue them an API token."""
        status, _ = await self.call("POST", "/api/v1/tenants", json={"name": tenant})
        assert status in (201, 409)
        status, body = await self.call(
            "POST", f"/api/v1/tenants/{tenant}/members", json={"user": user, "role": role, "namespace": namespace}
        )
        assert status == 201, body
        issued = await self.gateway.tokens.issue(user=user, name="test", days=1)
        return issued.token


def settings(**kw: Any) -> GatewaySettings:
    base: dict[str, Any] = {
        "admin_token": SecretStr(ADMIN_TOKEN),
        "rate_per_second": 1000.0,
        "rate_burst": 1000,
        "dingtalk_app_secret": SecretStr(DINGTALK_SECRET),
        "slack_signing_secret": SecretStr(SLACK_SECRET),
        "feishu_verification_token": SecretStr(FEISHU_TOKEN),
        "feishu_encrypt_key": SecretStr(FEISHU_KEY),
        "hooks_token": SecretStr(HOOK_TOKEN),
        "anon_rate_per_second": 1000.0,
        "anon_rate_burst": 1000,
    }
    return GatewaySettings(**{**base, **kw})
