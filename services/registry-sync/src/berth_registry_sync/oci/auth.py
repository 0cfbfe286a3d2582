"""Registry authentication: Basic, and Bearer tokens fetched from the challenge's realm, cached per scope."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Sequence

import aiohttp

from .challenge import Challenge, parse_challenges
from .errors import AuthenticationFailed, RegistryError

ScopeKey = tuple[str, ...]


class Authenticator:
    """Answers ``Authorization`` headers for a set of scopes and learns from 401 challenges."""

    def __init__(self, *, registry: str, username: str | None, password: str | None) -> None:
        self.registry = registry
        self.username = username
        self._password = password
        self.mode: str | None = None  # None until the first challenge: "basic" | "bearer"
        self._realm: str | None = None
        self._service: str | None = None
        self._tokens: dict[ScopeKey, tuple[str, float]] = {}
        self._locks: dict[ScopeKey, asyncio.Lock] = {}

    def _basic(self) -> str:
        raw = f"{self.username}:{self._password or ''}".encode()
        return "Basic " + base64.b64encode(raw).decode()

    async def header(self, session: aiohttp.ClientSession, scopes: Sequence[str]) -> str | None:
        if self.mode == "basic":
            return self._basic() if self.username else None
        if self.mode == "bearer":
            return "Bearer " + await self._token(session, tuple(sorted(scopes)))
        return None

    async def on_challenge(
        self, session: aiohttp.ClientSession, header: str | None, scopes: Sequence[str], *, sent: str | None
    ) -> None:
        """Learn the scheme from a 401; raise ``AuthenticationFailed`` when retrying cannot help."""
        try:
            challenges = parse_challenges(header or "")
        except ValueError as e:
            raise RegistryError(f"{self.registry}: unreadable auth challenge: {e}", status=401) from e
        bearer = next((c for c in challenges if c.scheme == "bearer"), None)
        basic = next((c for c in challenges if c.scheme == "basic"), None)
        if bearer is not None:
            self._learn_bearer(bearer)
            key = tuple(sorted({*scopes, *_challenge_scopes(bearer)}))
            if sent and sent.startswith("Bearer "):
                # the token we sent was refused: drop it and fetch once more for the wider scope
                self._tokens.pop(tuple(sorted(scopes)), None)
                if key == tuple(sorted(scopes)):
                    raise AuthenticationFailed(self.registry, self.username)
            self._tokens.pop(key, None)
            token = await self._token(session, key)
            self._tokens[tuple(sorted(scopes))] = (token, time.monotonic() + 30)
            return
        if basic is not None:
            if self.mode == "basic" or not self.username or (sent or "").startswith("Basic "):
                raise AuthenticationFailed(self.registry, self.username)
            self.mode = "basic"
            return
        raise AuthenticationFailed(self.registry, self.username)

    def _learn_bearer(self, c: Challenge) -> None:
        if not c.realm:
            raise RegistryError(f"{self.registry}: Bearer challenge without a realm", status=401)
        self.mode = "bearer"
        self._realm = c.realm
        self._service = c.params.get("service")

    async def _token(self, session: aiohttp.ClientSession, key: ScopeKey) -> str:
        cached = self._tokens.get(key)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self._tokens.get(key)
            if cached and cached[1] > time.monotonic():
                return cached[0]
            token, ttl = await self._fetch(session, key)
            # renew a little early so a token never expires in flight
            self._tokens[key] = (token, time.monotonic() + max(1.0, ttl - 10))
            return token

    async def _fetch(self, session: aiohttp.ClientSession, key: ScopeKey) -> tuple[str, float]:
        assert self._realm is not None
        params: list[tuple[str, str]] = []
        if self._service:
            params.append(("service", self._service))
        params.extend(("scope", s) for s in key)
        headers = {"Authorization": self._basic()} if self.username else {}
        try:
            async with session.get(self._realm, params=params, headers=headers) as resp:
                if resp.status in (401, 403):
                    raise AuthenticationFailed(self.registry, self.username)
                if resp.status != 200:
                    raise RegistryError(
                        f"{self.registry}: token endpoint {self._realm} answered {resp.status}", status=resp.status
                    )
                body = await resp.json(content_type=None)
        except aiohttp.ClientError as e:
            raise RegistryError(f"{self.registry}: token endpoint {self._realm} unreachable: {e}") from e
        token = body.get("token") or body.get("access_token")
        if not isinstance(token, str) or not token:
            raise RegistryError(f"{self.registry}: token endpoint {self._realm} returned no token")
        return token, float(body.get("expires_in") or 60)


def _challenge_scopes(c: Challenge) -> list[str]:
    scope = c.params.get("scope")
    return scope.split(" ") if scope else []
